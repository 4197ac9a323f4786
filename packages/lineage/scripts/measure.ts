// Index build time, memory per event and depth-10/20 query latency on an unsigned demo city.
// Usage: node --expose-gc packages/lineage/scripts/measure.ts [events=200000] [queries=200]
import { DATASET, generateDemoCity } from '@civic-ledger/demo-city';
import { encodeLeaf } from '@civic-ledger/leaf';
import { canonicalEventText, type Event } from '@civic-ledger/schemas';
import { LineageIndex, trace, type TraceQuery } from '../src/index.ts';

const size = Number(process.argv[2] ?? 200_000);
const queries = Number(process.argv[3] ?? 200);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) console.warn('run with --expose-gc for memory figures');
const mem = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const city = generateDemoCity({
  seed: 'measure',
  size,
  sign: false,
  now: Date.parse('2027-01-01T00:00:00Z'),
});
const admitted = '2026-11-01T00:00:00.000Z';
const before = mem();
const index = new LineageIndex();
const sample: string[] = [];
let addMs = 0;
let n = 0;
for (const batch of city.batchesSync()) {
  const records = batch.map((s) => {
    const leaf = encodeLeaf({
      index: n,
      admitted,
      eventCanonical: canonicalEventText(s.event as Event),
      signature: s.signature,
    });
    return { index: n++, leaf, eventHash: s.hash, chain: '', seq: 0 };
  });
  const t = performance.now();
  for (const r of records) index.add(r);
  addMs += performance.now() - t;
  for (let i = 0; i < batch.length; i += 97) if ('inputs' in batch[i]!.event) sample.push(batch[i]!.hash);
}
const after = mem();
const events = index.events;
console.log(`leaves ${index.size}, movement events ${events}, edges ${index.edges}`);
console.log(
  `index build (add only): ${(addMs / 1000).toFixed(2)} s, ${Math.round(index.size / (addMs / 1000))} leaves/s`,
);
console.log(
  `memory: ${((after - before) / 2 ** 20).toFixed(1)} MiB heap+buffers, ${Math.round((after - before) / events)} B/event ` +
    `(typed arrays ${Math.round(index.typedBytes / events)} B/event at capacity)`,
);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
function run(label: string, make: (i: number) => TraceQuery): void {
  const times: number[] = [];
  let nodes = 0;
  let cut = 0;
  for (let i = 0; i < queries; i++) {
    const t = performance.now();
    const r = trace(index, make(i));
    times.push(performance.now() - t);
    nodes += r.nodes.length;
    if (!r.complete) cut++;
  }
  console.log(
    `${label.padEnd(44)} p50 ${pct(times, 50).toFixed(2)} ms  p95 ${pct(times, 95).toFixed(2)} ms  max ${Math.max(...times).toFixed(2)} ms  ` +
      `avg nodes ${(nodes / queries).toFixed(0)}  incomplete ${cut}/${queries}`,
  );
}
const pick = (i: number) => sample[(i * 7919) % sample.length]!;
for (const depth of [10, 20]) {
  for (const direction of ['upstream', 'downstream'] as const) {
    run(`${direction} depth ${depth}, random event, page 1000`, (i) => ({
      from: { event: pick(i) },
      direction,
      depth,
    }));
  }
}
// The deepest chains: the daily mobility index (yesterday's index + everything received today).
const dailies = trace(index, {
  from: { dataset: DATASET.index },
  direction: 'upstream',
  depth: 0,
  page: { limit: 10_000 },
});
const derives = dailies.nodes.filter((x) => x.type === 'derive').map((x) => x.event);
for (const depth of [10, 20]) {
  run(`upstream depth ${depth}, daily mobility index`, (i) => ({
    from: { event: derives[derives.length - 1 - (i % derives.length)]! },
    direction: 'upstream',
    depth,
  }));
}
const camera = city.sources.find((s) => s.family === 'cameras')!.id;
run('downstream depth 10, a camera source, page 1000', () => ({
  from: { source: camera },
  direction: 'downstream',
  depth: 10,
}));
