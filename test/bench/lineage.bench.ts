// Lineage: LineageIndex.build from a store and upstream / downstream trace latency at depth
// 10 and 20 (p50 / p95 / p99) on the demo city, each against a baseline measured in the
// same run from the same store:
// - build: reading the same leaves alone (store.getLeaves in the index's pages of 5,000);
// - each query: reading the leaves of the answer's nodes straight from the store
//   (store.getLeavesByEventHash of the page's event hashes), timed right after the query.
//   What a caller that already knew the answer would still pay to fetch its events.
// SQLite: BENCH_LINEAGE_EVENTS (default 1,000,000) unsigned demo-city events (the index
// does not check signatures), written as the ledger's leaves with SqliteStore.append
// (admission is the log-core suite's); BENCH_LINEAGE_DB=path keeps that store and reuses it.
// MongoDB wire: only with CIVIC_LEDGER_TEST_MONGODB_URL, a smaller city
// (BENCH_LINEAGE_MONGO_EVENTS, default 20,000) in a MongoStore, in a fresh database dropped
// afterwards. Locally that server is FerretDB 1.24 on SQLite: figures are labelled with the
// server buildInfo names, and on FerretDB, whose reads scan the collection, the baseline is
// only the first BENCH_LINEAGE_FERRETDB_READS (default 2) answers of each case.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DATASET, generateDemoCity, type DemoCity } from '@civic-ledger/demo-city';
import { encodeLeaf } from '@civic-ledger/leaf';
import { CompactRange, hashLeaf, newNodeBatch } from '@civic-ledger/merkle';
import { canonicalEventText, isMovement, type Event } from '@civic-ledger/schemas';
import { SqliteStore, type LedgerStore, type LineageLink } from '@civic-ledger/storage';
import { MongoStore } from '@civic-ledger/storage-mongodb';
import { MongoClient } from 'mongodb';
import { LineageIndex, trace, traceInStore, type TraceQuery } from '@civic-ledger/lineage';
import { fmt, type Figure } from './lib.ts';

const EVENTS = Number(process.env['BENCH_LINEAGE_EVENTS'] ?? 1_000_000);
const QUERIES = Number(process.env['BENCH_LINEAGE_QUERIES'] ?? 300);
const MONGO_EVENTS = Number(process.env['BENCH_LINEAGE_MONGO_EVENTS'] ?? 20_000);
const MONGO_QUERIES = Number(process.env['BENCH_LINEAGE_MONGO_QUERIES'] ?? 100);
/** Baseline reads per query case on FerretDB: each scans the whole collection (seconds). */
const FERRETDB_READS = Math.min(MONGO_QUERIES, Number(process.env['BENCH_LINEAGE_FERRETDB_READS'] ?? 2));
/** Rounds run before the timed ones (JIT, page cache, the store's in-memory lookups). */
const WARMUP = 20;
const SEED = 'lineage-bench';
const MOVEMENTS = new Set(['collect', 'transfer', 'derive', 'use', 'publish', 'delete']);

// Memory figures need a full GC; run.ts starts suites without --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const log = (s: string) => process.stderr.write(`lineage: ${s}\n`);

function city(size: number): DemoCity {
  // A fixed clock after the window, so the same seed and size give the same events.
  return generateDemoCity({ seed: SEED, size, sign: false, now: Date.parse('2027-01-01T00:00:00Z') });
}

/**
 * Appends the city to an empty store as the ledger's leaves (encodeLeaf, tree nodes, event
 * hash, chain position), one batch of 1,000 per commit, without admission.
 */
async function writeCity(store: LedgerStore, c: DemoCity, label: string): Promise<void> {
  const lease = await store.acquireWriter({ owner: 'lineage-bench', ttlMs: 3_600_000 });
  const admitted = new Date(Date.parse(c.end) + 60_000).toISOString();
  const range = CompactRange.empty();
  let n = 0;
  let reported = 0;
  const start = performance.now();
  for (const batch of c.batchesSync()) {
    const nodes = newNodeBatch();
    const lineage: LineageLink[] = [];
    const leaves = batch.map((s) => {
      const e = s.event as Event;
      if (isMovement(e)) for (const input of new Set(e.inputs)) lineage.push({ index: n, input });
      const leaf = encodeLeaf({
        index: n,
        admitted,
        eventCanonical: canonicalEventText(e),
        signature: s.signature,
      });
      range.append(hashLeaf(leaf), nodes);
      return { index: n++, leaf, eventHash: s.hash, chain: `${e.emitter}/${e.stream}`, seq: e.seq };
    });
    await store.append(lease, n - leaves.length, {
      leaves,
      nodes,
      registry: [],
      lineage,
      rootHash: range.root(),
    });
    if (n - reported >= c.size / 5 || n === c.size) {
      reported = n;
      log(
        `${label}: ${fmt(n)}/${fmt(c.size)} leaves written (${((performance.now() - start) / 1000).toFixed(0)} s)`,
      );
    }
  }
  await store.releaseWriter(lease);
}

/**
 * Heap + buffers after full GCs, with pauses between them: buffers of leaves read just
 * before are released (and counted as released) only after a GC and a turn of the loop.
 */
async function memory(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = process.memoryUsage();
  if (process.env['BENCH_DEBUG']) log(JSON.stringify(m));
  return m.heapUsed + m.arrayBuffers;
}

interface Built {
  index: LineageIndex;
  buildMs: number;
  readMs: number;
  bytes: number;
  /** A deterministic sample of movement events (start points of the random queries). */
  starts: string[];
}

/**
 * Reads the store's leaves alone (the floor), picking `samples` movement events at
 * pseudo-random indexes on the way (one pass: FerretDB scans the collection per query),
 * then builds the index from the store.
 */
async function build(store: LedgerStore, label: string, samples: number): Promise<Built> {
  const size = (await store.head()).size;
  const wanted = new Map<number, number>(); // leaf index -> draw order
  for (let seed = 20261001; wanted.size < Math.min(size, 2 * samples);) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    if (!wanted.has(seed % size)) wanted.set(seed % size, wanted.size);
  }
  const drawn: string[] = [];
  let t = performance.now();
  for (let from = 0; from < size; from += 5000) {
    for (const r of await store.getLeaves(from, from + 5000)) {
      const order = wanted.get(r.index);
      if (order === undefined) continue;
      const leaf = JSON.parse(Buffer.from(r.leaf).toString('utf8')) as { event: { type: string } };
      if (MOVEMENTS.has(leaf.event.type)) drawn[order] = r.eventHash;
    }
  }
  const readMs = performance.now() - t;
  const starts = drawn.filter((h) => h !== undefined).slice(0, samples);
  log(`${label}: read ${fmt(size)} leaves alone in ${(readMs / 1000).toFixed(1)} s; building the index`);
  const before = await memory();
  t = performance.now();
  const index = await LineageIndex.build(store);
  const buildMs = performance.now() - t;
  const bytes = (await memory()) - before;
  log(
    `${label}: index built in ${(buildMs / 1000).toFixed(1)} s: ${fmt(index.events)} movement nodes, ${fmt(index.edges)} edges`,
  );
  return { index, buildMs, readMs, bytes, starts };
}

interface QueryCase {
  name: string;
  depth: number;
  query: (i: number) => TraceQuery;
}

function cases(index: LineageIndex, c: DemoCity, starts: string[]): QueryCase[] {
  // The deepest chains of the city: each daily mobility index derives from yesterday's
  // (plus the day's aggregates of four agencies), ~1 step longer every day. Newest first.
  const dailies = trace(index, {
    from: { dataset: DATASET.index },
    direction: 'upstream',
    depth: 0,
    page: { limit: 10_000 },
  });
  const derives = dailies.nodes.filter((x) => x.type === 'derive').map((x) => x.event);
  const cameras = c.sources.filter((s) => s.family === 'cameras').map((s) => s.id);
  const out: QueryCase[] = [];
  for (const depth of [10, 20]) {
    for (const direction of ['upstream', 'downstream'] as const) {
      out.push({
        name: `${direction}, random movement event`,
        depth,
        query: (i) => ({ from: { event: starts[i % starts.length]! }, direction, depth }),
      });
    }
    out.push({
      name: 'upstream, a daily mobility index (fan-in of daily aggregates)',
      depth,
      query: (i) => ({
        from: { event: derives[derives.length - 1 - (i % Math.min(7, derives.length))]! },
        direction: 'upstream',
        depth,
      }),
    });
    out.push({
      name: 'downstream, a camera source (all its collects)',
      depth,
      query: (i) => ({ from: { source: cameras[i % cameras.length]! }, direction: 'downstream', depth }),
    });
  }
  return out;
}

interface Timings {
  query: number[];
  read: number[];
  nodes: number;
  incomplete: number;
}

/**
 * `n` rounds (after WARMUP untimed ones), each running every case once: noise hits all
 * alike. The baseline read follows each query of the first `reads` rounds (and of the
 * warm-up when `reads` is `n`).
 */
async function runQueries(
  store: LedgerStore,
  index: LineageIndex,
  qs: QueryCase[],
  n: number,
  reads: number,
  label: string,
): Promise<Timings[]> {
  const out = qs.map(() => ({ query: [] as number[], read: [] as number[], nodes: 0, incomplete: 0 }));
  const start = performance.now();
  for (let r = -WARMUP; r < n; r++) {
    const i = r < 0 ? n + WARMUP + r : r; // the warm-up has start points of its own
    const read = r < 0 ? reads === n : r < reads;
    for (const [k, q] of qs.entries()) {
      let t = performance.now();
      const answer = trace(index, q.query(i));
      const queryMs = performance.now() - t;
      let readMs: number | undefined;
      if (read) {
        t = performance.now();
        const leaves = await store.getLeavesByEventHash(answer.nodes.map((x) => x.event));
        readMs = performance.now() - t;
        if (leaves.length !== answer.nodes.length)
          throw new Error('bench: an answer node is not in the store');
      }
      if (r < 0) continue;
      const o = out[k]!;
      o.query.push(queryMs);
      if (readMs !== undefined) o.read.push(readMs);
      o.nodes += answer.nodes.length;
      if (!answer.complete) o.incomplete++;
    }
    if (r >= 0 && (r + 1) % Math.max(1, Math.floor(n / 4)) === 0)
      log(`${label}: ${r + 1}/${n} query rounds (${((performance.now() - start) / 1000).toFixed(0)} s)`);
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function ppp(xs: number[]): { text: string; p95: number } {
  const s = [...xs].sort((a, b) => a - b);
  const f = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
  return {
    text: `${f(percentile(s, 50))} / ${f(percentile(s, 95))} / ${f(percentile(s, 99))}`,
    p95: percentile(s, 95),
  };
}

function queryFigures(
  suite: string,
  where: string,
  qs: QueryCase[],
  ts: Timings[],
  n: number,
  reads: number,
): Figure[] {
  return qs.map((q, k) => {
    const t = ts[k]!;
    const query = ppp(t.query);
    // Few reads on FerretDB (seconds each): all of them, and the fastest as the reference.
    const read = [...t.read].sort((a, b) => a - b);
    const baseline =
      reads === n
        ? `reading the answers' leaves by event hash from the store: ${ppp(t.read).text}`
        : `reading the first ${reads} answers' leaves by event hash (each read scans the collection): ` +
          `${t.read.map((x) => x.toFixed(0)).join(', ')}`;
    const ref = reads === n ? ppp(t.read).p95 : read[0]!;
    return {
      suite,
      metric:
        `${q.name}, depth ${q.depth}, ${where}, p50 / p95 / p99 (ms) of ${n} queries ` +
        `(page limit 1,000; avg ${fmt(t.nodes / n)} nodes per answer, ${t.incomplete}/${n} incomplete)`,
      value: query.text,
      baseline,
      ratio:
        reads === n
          ? `${(query.p95 / ref).toFixed(2)}x (p95)`
          : `${(query.p95 / ref).toFixed(4)}x (p95 / fastest read)`,
      target: q.depth === 10 ? 'p95 < 50 ms' : '(context)',
      met: q.depth === 10 ? query.p95 < 50 : undefined,
    };
  });
}

function buildFigures(suite: string, where: string, b: Built, size: number, withMemory: boolean): Figure[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const figures: Figure[] = [
    {
      suite,
      metric: `LineageIndex.build(store), ${where}, ${fmt(size)} leaves (time; leaves/s)`,
      value: `${s(b.buildMs)}; ${fmt(size / (b.buildMs / 1000))}/s`,
      baseline: `reading the same leaves alone (getLeaves, pages of 5,000): ${s(b.readMs)}; ${fmt(size / (b.readMs / 1000))}/s`,
      ratio: `${(b.buildMs / b.readMs).toFixed(1)}x the read time`,
      target: '(context)',
      met: undefined,
    },
  ];
  if (withMemory)
    figures.push({
      suite,
      metric: `memory of that index (heap + buffers after GC) per movement node (${fmt(b.index.events)} nodes, ${fmt(b.index.edges)} edges)`,
      value: `${fmt(b.bytes / b.index.events)} B (${(b.bytes / 2 ** 20).toFixed(0)} MiB)`,
      baseline: `its typed arrays at capacity: ${fmt(b.index.typedBytes / b.index.events)} B per node`,
      ratio: `${(b.bytes / b.index.typedBytes).toFixed(2)}x`,
      target: '(context)',
      met: undefined,
    });
  return figures;
}

/**
 * The same random-event queries answered through the storage interface alone
 * (traceInStore: one batched store read per level, no index in memory), against the
 * in-memory index's answer to the same query, timed alternately.
 */
async function storeQueries(
  store: LedgerStore,
  index: LineageIndex,
  starts: string[],
  where: string,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const depth of [10, 20]) {
    for (const direction of ['upstream', 'downstream'] as const) {
      const viaStore: number[] = [];
      const viaIndex: number[] = [];
      let nodes = 0;
      for (let r = -WARMUP; r < QUERIES; r++) {
        const event = starts[(r + WARMUP) % starts.length]!;
        let t = performance.now();
        const a = await traceInStore(store, { event, direction, depth });
        const storeMs = performance.now() - t;
        t = performance.now();
        const b = trace(index, { from: { event }, direction, depth });
        const indexMs = performance.now() - t;
        if (a.nodes.length !== b.nodes.length) throw new Error('bench: traceInStore and trace disagree');
        if (r < 0) continue;
        viaStore.push(storeMs);
        viaIndex.push(indexMs);
        nodes += a.nodes.length;
      }
      const s = ppp(viaStore);
      const i = ppp(viaIndex);
      figures.push({
        suite: 'lineage',
        metric:
          `${direction}, random movement event, depth ${depth}, through the storage interface (traceInStore), ` +
          `${where}, p50 / p95 / p99 (ms) of ${QUERIES} queries (avg ${fmt(nodes / QUERIES)} nodes per answer)`,
        value: s.text,
        baseline: `the in-memory index (trace) on the same queries: ${i.text}`,
        ratio: `${(s.p95 / i.p95).toFixed(1)}x (p95)`,
        target: '(context)',
        met: undefined,
      });
    }
  }
  return figures;
}

async function sqlite(): Promise<Figure[]> {
  const keep = process.env['BENCH_LINEAGE_DB'];
  const tmp = keep ? undefined : mkdtempSync(join(tmpdir(), 'cl-bench-lineage-'));
  const path = keep ?? join(tmp!, 'city.db');
  const c = city(EVENTS);
  try {
    let reuse = false;
    if (existsSync(path)) {
      const s = new SqliteStore({ path });
      reuse = (await s.head()).size === EVENTS;
      await s.close();
    }
    if (reuse) log(`SQLite: reusing ${path}`);
    else {
      log(`SQLite: writing ${fmt(EVENTS)} unsigned demo-city events`);
      const partial = `${path}.partial`;
      for (const x of ['', '-wal', '-shm']) rmSync(partial + x, { force: true });
      const s = new SqliteStore({ path: partial });
      await writeCity(s, c, 'SQLite');
      await s.close();
      for (const x of ['', '-wal', '-shm']) {
        rmSync(path + x, { force: true });
        if (existsSync(partial + x)) renameSync(partial + x, path + x);
      }
    }
    const store = new SqliteStore({ path });
    try {
      const where = `SQLite, ${fmt(EVENTS)} unsigned demo-city events`;
      const b = await build(store, 'SQLite', QUERIES + WARMUP);
      const qs = cases(b.index, c, b.starts);
      const ts = await runQueries(store, b.index, qs, QUERIES, QUERIES, 'SQLite');
      return [
        ...buildFigures('lineage', where, b, EVENTS, true),
        ...queryFigures('lineage', where, qs, ts, QUERIES, QUERIES),
        ...(await storeQueries(store, b.index, b.starts, where)),
      ];
    } finally {
      await store.close();
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

async function mongo(url: string): Promise<Figure[]> {
  const database = `bench_lineage_${randomUUID().slice(0, 8)}`;
  const client = new MongoClient(url);
  await client.connect();
  try {
    // Name the server the figures are of: FerretDB answers buildInfo with its own version.
    const info = (await client.db('admin').command({ buildInfo: 1 })) as {
      version: string;
      ferretdbVersion?: string;
    };
    const server =
      info.ferretdbVersion === undefined
        ? `MongoDB ${info.version}`
        : `FerretDB ${info.ferretdbVersion} (not MongoDB)`;
    const reads = info.ferretdbVersion === undefined ? MONGO_QUERIES : FERRETDB_READS;
    const suite = info.ferretdbVersion === undefined ? 'lineage (MongoDB)' : 'lineage (FerretDB)';
    const store = await MongoStore.open({ client, database });
    const c = city(MONGO_EVENTS);
    log(`${server}: writing ${fmt(MONGO_EVENTS)} unsigned demo-city events into ${database}`);
    await writeCity(store, c, server);
    const where = `${server}, ${fmt(MONGO_EVENTS)} unsigned demo-city events`;
    const b = await build(store, server, MONGO_QUERIES + WARMUP);
    const qs = cases(b.index, c, b.starts);
    const ts = await runQueries(store, b.index, qs, MONGO_QUERIES, reads, server);
    await store.close();
    // No memory figure: the index is the same as on SQLite, and the driver's buffers
    // make the heap difference meaningless.
    return [
      ...buildFigures(suite, where, b, MONGO_EVENTS, false),
      ...queryFigures(suite, where, qs, ts, MONGO_QUERIES, reads),
    ];
  } finally {
    await client.db(database).dropDatabase();
    await client.close();
  }
}

export async function run(): Promise<Figure[]> {
  const figures = await sqlite();
  const url = process.env['CIVIC_LEDGER_TEST_MONGODB_URL'];
  if (url) figures.push(...(await mongo(url)));
  else log('CIVIC_LEDGER_TEST_MONGODB_URL is not set: no MongoDB-wire figures');
  return figures;
}
