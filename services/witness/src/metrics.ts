// Prometheus text exposition (format 0.0.4), by hand: a few counters, gauges and one
// histogram. Label values come from the configuration (origins) or fixed sets (codes,
// kinds), never from requests, so a client cannot grow the label space.
import type { AlarmKind, WitnessState } from '@civic-ledger/witness';

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`,
  );
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

export class WitnessMetrics {
  readonly #cosigned = new Map<string, number>();
  readonly #refused = new Map<string, number>();
  readonly #alarms = new Map<string, number>();
  readonly #buckets = BUCKETS.map(() => 0);
  #sum = 0;
  #count = 0;

  cosigned(origin: string): void {
    this.#cosigned.set(origin, (this.#cosigned.get(origin) ?? 0) + 1);
  }

  refused(code: string): void {
    this.#refused.set(code, (this.#refused.get(code) ?? 0) + 1);
  }

  alarm(kind: AlarmKind): void {
    this.#alarms.set(kind, (this.#alarms.get(kind) ?? 0) + 1);
  }

  /** Duration of one add-checkpoint request. */
  observe(seconds: number): void {
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.#buckets[i]!++;
    });
    this.#sum += seconds;
    this.#count++;
  }

  render(state: {
    states: readonly WitnessState[];
    alarmsRecorded: Record<AlarmKind, number>;
    closing: boolean;
  }): string {
    const out: string[] = [];
    const counter = (name: string, help: string, values: Map<string, number>, label: string) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [k, n] of [...values].sort(([a], [b]) => (a < b ? -1 : 1)))
        out.push(`${name}${labels({ [label]: k })} ${n}`);
    };
    counter(
      'civic_ledger_witness_cosigned_total',
      'Checkpoints cosigned since start, by origin.',
      this.#cosigned,
      'origin',
    );
    counter(
      'civic_ledger_witness_refused_total',
      'add-checkpoint requests refused since start, by code.',
      this.#refused,
      'code',
    );
    counter(
      'civic_ledger_witness_alarms_total',
      'New alarms raised since start, by kind.',
      this.#alarms,
      'kind',
    );
    out.push(
      '# HELP civic_ledger_witness_alarms_recorded Alarms in the witness database, by kind.',
      '# TYPE civic_ledger_witness_alarms_recorded gauge',
    );
    for (const [kind, n] of Object.entries(state.alarmsRecorded)) {
      out.push(`civic_ledger_witness_alarms_recorded${labels({ kind })} ${n}`);
    }
    out.push(
      '# HELP civic_ledger_witness_tree_size Size of the latest checkpoint cosigned, by origin.',
      '# TYPE civic_ledger_witness_tree_size gauge',
    );
    for (const s of state.states)
      out.push(`civic_ledger_witness_tree_size${labels({ origin: s.origin })} ${s.size}`);
    out.push(
      '# HELP civic_ledger_witness_cosigned_timestamp_seconds Timestamp of the latest cosignature, by origin.',
      '# TYPE civic_ledger_witness_cosigned_timestamp_seconds gauge',
    );
    for (const s of state.states) {
      out.push(
        `civic_ledger_witness_cosigned_timestamp_seconds${labels({ origin: s.origin })} ${s.cosignedAt}`,
      );
    }
    out.push(
      '# HELP civic_ledger_witness_up 1 while the witness accepts requests (0 while closing).',
      '# TYPE civic_ledger_witness_up gauge',
      `civic_ledger_witness_up ${state.closing ? 0 : 1}`,
      '# HELP civic_ledger_witness_add_checkpoint_duration_seconds add-checkpoint handling time.',
      '# TYPE civic_ledger_witness_add_checkpoint_duration_seconds histogram',
    );
    BUCKETS.forEach((le, i) => {
      out.push(
        `civic_ledger_witness_add_checkpoint_duration_seconds_bucket${labels({ le: String(le) })} ${this.#buckets[i]}`,
      );
    });
    out.push(
      `civic_ledger_witness_add_checkpoint_duration_seconds_bucket${labels({ le: '+Inf' })} ${this.#count}`,
      `civic_ledger_witness_add_checkpoint_duration_seconds_sum ${this.#sum}`,
      `civic_ledger_witness_add_checkpoint_duration_seconds_count ${this.#count}`,
    );
    return `${out.join('\n')}\n`;
  }
}
