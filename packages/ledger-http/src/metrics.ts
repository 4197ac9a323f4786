// Prometheus text exposition (format 0.0.4), written by hand: a few counters, a gauge and
// one histogram are all this service exports.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`,
  );
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

interface Histogram {
  labels: Record<string, string>;
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  accepted = 0;
  duplicates = 0;
  readonly #refused = new Map<string, number>();
  readonly #durations = new Map<string, Histogram>();

  refused(code: string): void {
    this.#refused.set(code, (this.#refused.get(code) ?? 0) + 1);
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    const key = labelText(labels);
    let h = this.#durations.get(key);
    if (h === undefined) {
      h = { labels, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#durations.set(key, h);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  render(gauges: { treeSize: number; writable: boolean }): string {
    const out: string[] = [];
    out.push('# HELP civic_ledger_events_accepted_total Events appended to the log.');
    out.push('# TYPE civic_ledger_events_accepted_total counter');
    out.push(`civic_ledger_events_accepted_total ${this.accepted}`);
    out.push('# HELP civic_ledger_events_duplicate_total Submissions answered with an original receipt.');
    out.push('# TYPE civic_ledger_events_duplicate_total counter');
    out.push(`civic_ledger_events_duplicate_total ${this.duplicates}`);
    out.push('# HELP civic_ledger_events_refused_total Submissions refused, by error code.');
    out.push('# TYPE civic_ledger_events_refused_total counter');
    for (const [code, n] of [...this.#refused].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out.push(`civic_ledger_events_refused_total${labelText({ code })} ${n}`);
    }
    out.push('# HELP civic_ledger_tree_size Entries in the committed log.');
    out.push('# TYPE civic_ledger_tree_size gauge');
    out.push(`civic_ledger_tree_size ${gauges.treeSize}`);
    out.push('# HELP civic_ledger_writable 1 while this process is the log writer and accepts events.');
    out.push('# TYPE civic_ledger_writable gauge');
    out.push(`civic_ledger_writable ${gauges.writable ? 1 : 0}`);
    out.push('# HELP civic_ledger_http_request_duration_seconds HTTP request durations.');
    out.push('# TYPE civic_ledger_http_request_duration_seconds histogram');
    for (const h of this.#durations.values()) {
      BUCKETS.forEach((le, i) => {
        const l = labelText({ ...h.labels, le: String(le) });
        out.push(`civic_ledger_http_request_duration_seconds_bucket${l} ${h.counts[i]}`);
      });
      out.push(
        `civic_ledger_http_request_duration_seconds_bucket${labelText({ ...h.labels, le: '+Inf' })} ${h.count}`,
      );
      out.push(`civic_ledger_http_request_duration_seconds_sum${labelText(h.labels)} ${h.sum}`);
      out.push(`civic_ledger_http_request_duration_seconds_count${labelText(h.labels)} ${h.count}`);
    }
    return `${out.join('\n')}\n`;
  }
}
