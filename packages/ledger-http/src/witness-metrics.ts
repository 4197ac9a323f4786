// Prometheus metrics of witnessed checkpoints, for every service that asks witnesses (the
// standalone service, the sequencer while it holds the writer lease): counters over the rounds
// and gauges read from the ledger's witnessing status.
import type { WitnessRound, WitnessingStatus } from '@civic-ledger/ledger-core';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',')}}`;

/**
 * Counters over the rounds, rendered after the service's own metrics. Labels come from the
 * policy (witness names) and fixed code sets, never from requests.
 */
export class WitnessMetrics {
  readonly #rounds = new Map<string, number>();
  readonly #results = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  #durationSum = 0;
  #durationCount = 0;

  #inc(m: Map<string, number>, key: string): void {
    m.set(key, (m.get(key) ?? 0) + 1);
  }

  observe(round: WitnessRound): void {
    const outcome =
      round.kind === 'catch-up'
        ? 'catch_up'
        : round.published
          ? 'published'
          : round.quorum
            ? 'store_failed'
            : 'no_quorum';
    this.#inc(this.#rounds, labels({ outcome }));
    for (const w of round.witnesses) {
      if (w.result === 'kept') continue;
      this.#inc(this.#results, labels({ witness: w.witness, result: w.result }));
      if (w.code !== undefined) this.#inc(this.#failures, labels({ witness: w.witness, code: w.code }));
    }
    if (round.kind === 'checkpoint') {
      this.#durationSum += round.durationMs / 1000;
      this.#durationCount++;
    }
  }

  /** Without a status (a standby sequencer: no rounds) only the promised delay is rendered. */
  render(status: WitnessingStatus | undefined, checkpointWithinMs: number): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, rows: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [l, v] of rows) out.push(`${name}${l} ${v}`);
    };
    metric(
      'civic_ledger_checkpoint_within_seconds',
      'gauge',
      'The delay receipts promise for a checkpoint.',
      [['', checkpointWithinMs / 1000]],
    );
    if (status === undefined) return `${out.join('\n')}\n`;
    const sorted = (m: Map<string, number>): [string, number][] =>
      [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    metric(
      'civic_ledger_witness_rounds_total',
      'counter',
      'Witness rounds by outcome.',
      sorted(this.#rounds),
    );
    metric(
      'civic_ledger_witness_requests_total',
      'counter',
      'Cosignature requests by witness and result.',
      sorted(this.#results),
    );
    metric(
      'civic_ledger_witness_failures_total',
      'counter',
      'Failed cosignature requests by witness and code.',
      sorted(this.#failures),
    );
    metric('civic_ledger_witness_quorum', 'gauge', '1 when the latest checkpoint round reached the quorum.', [
      ['', status.latest === null || status.latest.quorum ? 1 : 0],
    ]);
    metric('civic_ledger_witness_published_size', 'gauge', 'Tree size of the latest published checkpoint.', [
      ['', status.published?.size ?? 0],
    ]);
    metric(
      'civic_ledger_witness_known_size',
      'gauge',
      'The size each witness is believed to have cosigned last (-1: unknown).',
      status.witnesses.map((w) => [labels({ witness: w.witness }), w.knownSize ?? -1]),
    );
    metric(
      'civic_ledger_witness_round_seconds',
      'summary',
      'Duration of checkpoint rounds (all witnesses asked).',
      [
        ['_sum', this.#durationSum],
        ['_count', this.#durationCount],
      ],
    );
    return `${out.join('\n')}\n`;
  }
}
