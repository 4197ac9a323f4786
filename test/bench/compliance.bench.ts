// Compliance: the engine and the compliance consumer on the demo city with its violation
// hooks (BENCH_COMPLIANCE_EVENTS, default 1,000,000, unsigned: the engine does not check
// signatures), each figure against a baseline measured in the same run on the same events:
// - feeding the engine (ComplianceState.add), against decoding + JSON.parse of the same
//   leaves (what reading the log costs anyway);
// - evaluations per second (evaluate of every movement of a lineage depth), against
//   JSON.parse of the same events' leaves, interleaved in rounds (lib.measure);
// - evaluate latency by lineage depth 1, 5, 10, 20 (p50 / p99 of single calls), against
//   JSON.parse of the same event's leaf timed right after it;
// - memory of the engine at the full size (heap after full GCs);
// - the consumer end to end: ComplianceRunner.open over the leaves in memory (parse, add,
//   evaluate every event, sign each finding, hand it to a submit that confirms at once),
//   against decoding + parsing the same leaves alone.
// Lineage depth of a movement: the events on its longest upstream path, itself included (a
// collect is depth 1; each daily mobility index derives from yesterday's, so depth grows by
// about one a day). Needs several GB of heap: run() re-runs this file in a child with
// --max-old-space-size when the heap limit is smaller.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ComplianceState } from '@civic-ledger/compliance';
import { ComplianceRunner, type LogSource } from '@civic-ledger/compliance-runner';
import { demoKey, generateDemoCity, violationHooks } from '@civic-ledger/demo-city';
import { encodeLeaf } from '@civic-ledger/leaf';
import { canonicalEventText, isMovement, type Event } from '@civic-ledger/schemas';
import type { LeafRecord } from '@civic-ledger/storage';
import { fmt, measure, type Figure } from './lib.ts';

const EVENTS = Number(process.env['BENCH_COMPLIANCE_EVENTS'] ?? 1_000_000);
/** Evaluations timed one by one per depth and round. */
const SAMPLES = Number(process.env['BENCH_COMPLIANCE_SAMPLES'] ?? 2000);
const ROUNDS = 5;
const DEPTHS = [1, 5, 10, 20] as const;
const SEED = 'compliance-bench';
const HEAP_MB = 8192;
const SUITE = 'compliance';

const log = (s: string) => process.stderr.write(`compliance: ${s}\n`);
const decoder = new TextDecoder();

// Memory figures need a full GC; run.ts starts suites without --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().heapUsed;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (x: number) => (x < 0.1 ? x.toFixed(4) : x < 10 ? x.toFixed(3) : x.toFixed(1));

interface Log {
  leaves: Uint8Array[];
  hashes: string[];
  /** Lineage depth per ledger index (0: not a movement). */
  depth: Uint8Array;
  genMs: number;
}

/** The city as the ledger's leaves (encodeLeaf), with each movement's lineage depth. */
function writeCity(): Log {
  const city = generateDemoCity({
    seed: SEED,
    size: EVENTS,
    sign: false,
    now: Date.parse('2027-01-01T00:00:00Z'),
    hooks: violationHooks({ perHour: 1 }),
  });
  const admitted = new Date(Date.parse(city.end) + 60_000).toISOString();
  const leaves: Uint8Array[] = [];
  const hashes: string[] = [];
  const depths: number[] = [];
  const depthOf = new Map<string, number>();
  const t = performance.now();
  for (const batch of city.batchesSync()) {
    for (const s of batch) {
      const e = s.event as unknown as Event;
      const index = leaves.length;
      leaves.push(
        encodeLeaf({ index, admitted, eventCanonical: canonicalEventText(e), signature: s.signature }),
      );
      hashes.push(s.hash);
      let d = 0;
      if (isMovement(e)) {
        d = 1;
        for (const i of e.inputs) d = Math.max(d, (depthOf.get(i) ?? 0) + 1);
        depthOf.set(s.hash, d);
      }
      depths.push(Math.min(d, 255));
    }
    if (leaves.length % 200_000 < 1000) log(`${fmt(leaves.length)} events written`);
  }
  return { leaves, hashes, depth: Uint8Array.from(depths), genMs: performance.now() - t };
}

function parseLeaf(leaf: Uint8Array): { event: Event; admitted: string } {
  return JSON.parse(decoder.decode(leaf)) as { event: Event; admitted: string };
}

interface Fed {
  /** Dropped before the consumer builds its own (one engine in memory at a time). */
  state: ComplianceState | undefined;
  addMs: number;
  parseMs: number;
  evaluateMs: number;
  evaluated: number;
  findings: number;
  bytes: number;
}

/** Feeds the engine every leaf in order, evaluating each event right after it, as the consumer does. */
async function feed(l: Log): Promise<Fed> {
  const before = await heapAfterGc();
  const state = new ComplianceState();
  let addMs = 0;
  let parseMs = 0;
  let evaluateMs = 0;
  let findings = 0;
  for (let i = 0; i < l.leaves.length; i++) {
    const t = performance.now();
    const { event } = parseLeaf(l.leaves[i]!);
    const t1 = performance.now();
    state.add(event, i, l.hashes[i]!);
    const t2 = performance.now();
    const outcomes = state.evaluate(l.hashes[i]!);
    const t3 = performance.now();
    parseMs += t1 - t;
    addMs += t2 - t1;
    evaluateMs += t3 - t2;
    for (const o of outcomes) if (o.outcome !== 'compliant') findings++;
    if ((i + 1) % 200_000 === 0) log(`${fmt(i + 1)} events fed to the engine`);
  }
  const bytes = (await heapAfterGc()) - before;
  return { state, addMs, parseMs, evaluateMs, evaluated: l.leaves.length, findings, bytes };
}

/** Movement indexes by depth bucket. */
function byDepth(l: Log, accept: (d: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < l.depth.length; i++) if (l.depth[i]! > 0 && accept(l.depth[i]!)) out.push(i);
  return out;
}

/** A deterministic sample of `n` of `xs`, spread over the log. */
function sample(xs: number[], n: number): number[] {
  if (xs.length <= n) return xs;
  const step = xs.length / n;
  return Array.from({ length: n }, (_, k) => xs[Math.floor(k * step)]!);
}

function throughput(l: Log, state: ComplianceState): Figure[] {
  const low = byDepth(l, (d) => d <= 5);
  const high = byDepth(l, (d) => d >= 11 && d <= 20);
  const cursor = { low: 0, high: 0, parse: 0 };
  const chunk = 500;
  const run = (xs: number[], key: 'low' | 'high') => () => {
    for (let k = 0; k < chunk; k++) state.evaluate(l.hashes[xs[cursor[key]++ % xs.length]!]!);
    return chunk;
  };
  const results = measure(
    [
      { name: 'evaluate, depth <= 5', run: run(low, 'low') },
      { name: 'evaluate, depth 11-20', run: run(high, 'high') },
      {
        name: 'parse',
        run: () => {
          for (let k = 0; k < chunk; k++) parseLeaf(l.leaves[low[cursor.parse++ % low.length]!]!);
          return chunk;
        },
      },
    ],
    { rounds: 7, roundMs: 1000 },
  );
  const lowRate = results.get('evaluate, depth <= 5')!.opsPerSec;
  const highRate = results.get('evaluate, depth 11-20')!.opsPerSec;
  const parse = results.get('parse')!.opsPerSec;
  const base = `JSON.parse of the same leaves (decoded): ${fmt(parse)}/s`;
  return [
    {
      suite: SUITE,
      metric: `evaluations per second, movements of lineage depth <= 5 (${fmt(low.length)} events, one thread)`,
      value: `${fmt(lowRate)}/s`,
      baseline: base,
      ratio: `${(lowRate / parse).toFixed(2)}x the parse rate`,
      target: '>= 20,000/s',
      met: lowRate >= 20_000,
    },
    {
      suite: SUITE,
      metric: `evaluations per second, movements of lineage depth 11-20 (${fmt(high.length)} events)`,
      value: `${fmt(highRate)}/s`,
      baseline: base,
      ratio: `${(highRate / parse).toFixed(2)}x the parse rate`,
      target: '(context)',
      met: undefined,
    },
  ];
}

function latency(l: Log, state: ComplianceState): Figure[] {
  const out: Figure[] = [];
  const buckets = DEPTHS.map((d) => ({
    d,
    xs: sample(
      byDepth(l, (x) => x === d),
      SAMPLES,
    ),
  }));
  const times = buckets.map(() => ({ evaluate: [] as number[], parse: [] as number[] }));
  // Warm-up round, then ROUNDS rounds each going through every bucket: noise hits all alike.
  for (let r = -1; r < ROUNDS; r++) {
    buckets.forEach((b, k) => {
      for (const i of b.xs) {
        let t = performance.now();
        state.evaluate(l.hashes[i]!);
        const e = performance.now() - t;
        t = performance.now();
        parseLeaf(l.leaves[i]!);
        const p = performance.now() - t;
        if (r < 0) continue;
        times[k]!.evaluate.push(e);
        times[k]!.parse.push(p);
      }
    });
  }
  buckets.forEach((b, k) => {
    const e = [...times[k]!.evaluate].sort((a, c) => a - c);
    const p = [...times[k]!.parse].sort((a, c) => a - c);
    const p99 = percentile(e, 99);
    out.push({
      suite: SUITE,
      metric: `evaluate latency, lineage depth ${b.d}, p50 / p99 (ms; ${fmt(b.xs.length)} events x ${ROUNDS} rounds)`,
      value: `${ms(percentile(e, 50))} / ${ms(p99)}`,
      baseline: `JSON.parse of the same leaf: ${ms(percentile(p, 50))} / ${ms(percentile(p, 99))}`,
      ratio: `${(p99 / percentile(p, 99)).toFixed(2)}x (p99)`,
      target: b.d === 20 ? 'p99 < 5 ms' : '(context)',
      met: b.d === 20 ? p99 < 5 : undefined,
    });
  });
  return out;
}

/** A LogSource over the leaves in memory: what the consumer reads, without a store's cost. */
function memorySource(l: Log): LogSource {
  const byHash = new Map<string, number>();
  l.hashes.forEach((h, i) => byHash.set(h, i));
  const record = (i: number): LeafRecord => ({
    index: i,
    leaf: l.leaves[i]!,
    eventHash: l.hashes[i]!,
    chain: '',
    seq: 0,
  });
  return {
    head: async () => ({ size: l.leaves.length, rootHash: new Uint8Array(32), epoch: 0 }),
    getLeaves: async (from, to) => {
      const out: LeafRecord[] = [];
      for (let i = from; i < Math.min(to, l.leaves.length); i++) out.push(record(i));
      return out;
    },
    getLeavesByEventHash: async (hashes) =>
      hashes.flatMap((h) => (byHash.has(h) ? [record(byHash.get(h)!)] : [])),
    getChainHead: async () => undefined,
  };
}

async function consumer(l: Log): Promise<Figure[]> {
  let t = performance.now();
  for (const leaf of l.leaves) parseLeaf(leaf);
  const parseMs = performance.now() - t;
  const source = memorySource(l);
  const before = await heapAfterGc();
  let submitted = 0;
  t = performance.now();
  const runner = await ComplianceRunner.open({
    source,
    key: demoKey(SEED, 'compliance'),
    submit: async (e) => {
      submitted += e.length;
      return e.map(() => ({ ok: true as const }));
    },
    retentionIntervalMs: 0,
    maxQueue: 1_000_000,
  });
  await runner.settled();
  const openMs = performance.now() - t;
  const bytes = (await heapAfterGc()) - before;
  const n = l.leaves.length;
  await runner.close();
  return [
    {
      suite: SUITE,
      metric: `ComplianceRunner.open over ${fmt(n)} leaves in memory: parse, add, evaluate every event, sign ${fmt(submitted)} findings`,
      value: `${(openMs / 1000).toFixed(1)} s (${fmt(n / (openMs / 1000))} events/s)`,
      baseline: `decoding + JSON.parse of the same leaves alone: ${(parseMs / 1000).toFixed(1)} s`,
      ratio: `${(openMs / parseMs).toFixed(1)}x`,
      target: '(context)',
      met: undefined,
    },
    {
      suite: SUITE,
      metric: `memory of the consumer at ${fmt(n)} events (heap after GC: engine, findings index, queue)`,
      value: `${(bytes / 2 ** 30).toFixed(2)} GiB (${fmt(bytes / n)} B per event)`,
      baseline: `the leaves' bytes: ${(l.leaves.reduce((a, b) => a + b.byteLength, 0) / 2 ** 30).toFixed(2)} GiB`,
      ratio: `${(bytes / l.leaves.reduce((a, b) => a + b.byteLength, 0)).toFixed(2)}x`,
      target: '(context)',
      met: undefined,
    },
  ];
}

async function inner(): Promise<Figure[]> {
  log(`generating ${fmt(EVENTS)} demo-city events (violation hooks on)`);
  const l = writeCity();
  log(`written in ${(l.genMs / 1000).toFixed(0)} s; feeding the engine`);
  const fed = await feed(l);
  const n = fed.evaluated;
  const rate = (x: number) => `${fmt(n / (x / 1000))}/s`;
  const figures: Figure[] = [
    {
      suite: SUITE,
      metric: `ComplianceState.add of ${fmt(n)} events in ledger order (${fmt(fed.findings)} non-compliant outcomes)`,
      value: `${(fed.addMs / 1000).toFixed(1)} s (${rate(fed.addMs)})`,
      baseline: `decoding + JSON.parse of the same leaves: ${(fed.parseMs / 1000).toFixed(1)} s (${rate(fed.parseMs)})`,
      ratio: `${(fed.addMs / fed.parseMs).toFixed(2)}x`,
      target: '(context)',
      met: undefined,
    },
    {
      suite: SUITE,
      metric: `evaluate of every event right after its add, all depths (${fmt(n)} events)`,
      value: `${(fed.evaluateMs / 1000).toFixed(1)} s (${rate(fed.evaluateMs)})`,
      baseline: `decoding + JSON.parse: ${rate(fed.parseMs)}`,
      ratio: `${(fed.evaluateMs / fed.parseMs).toFixed(2)}x`,
      target: '(context)',
      met: undefined,
    },
    {
      suite: SUITE,
      metric: `memory of the engine at ${fmt(n)} events (heap after GC)`,
      value: `${(fed.bytes / 2 ** 30).toFixed(2)} GiB (${fmt(fed.bytes / n)} B per event)`,
      baseline: `the leaves' bytes: ${(l.leaves.reduce((a, b) => a + b.byteLength, 0) / 2 ** 30).toFixed(2)} GiB`,
      ratio: `${(fed.bytes / l.leaves.reduce((a, b) => a + b.byteLength, 0)).toFixed(2)}x`,
      target: '(context)',
      met: undefined,
    },
  ];
  log('throughput by depth');
  figures.push(...throughput(l, fed.state!));
  log('latency by depth');
  figures.push(...latency(l, fed.state!));
  // One engine at a time: the consumer builds its own.
  fed.state = undefined;
  log('the consumer end to end');
  figures.push(...(await consumer(l)));
  return figures;
}

export async function run(): Promise<Figure[]> {
  if (getHeapStatistics().heap_size_limit >= (HEAP_MB / 2) * 2 ** 20) return inner();
  // A million events' engine needs more heap than Node's default: the same file in a child.
  const child = spawnSync(
    process.execPath,
    [`--max-old-space-size=${HEAP_MB}`, fileURLToPath(import.meta.url), '--inner'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 },
  );
  if (child.status !== 0) throw new Error(`compliance bench child failed (exit ${child.status})`);
  return JSON.parse(child.stdout) as Figure[];
}

if (process.argv.includes('--inner')) {
  const figures = await inner();
  // Write, then leave once stdout has taken it all (a pipe may not take it in one go).
  process.stdout.write(JSON.stringify(figures), () => process.exit(0));
}
