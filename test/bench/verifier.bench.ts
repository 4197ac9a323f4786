// Verifier: verifyLog over a demo-city log on SQLite (BENCH_VERIFIER_EVENTS, default
// 100,000 signed events of about 650 bytes), without and with signature checks, each
// against a baseline measured in the same run:
// - without signatures: the reference path (fastPath: false, one thread: the verifier as
//   it was before the fast path) on the first 20,000 leaves of the same log;
// - with signatures: raw node:crypto Ed25519 verify of the same events' signatures with
//   prebuilt keys, times the cores used.
// The log is read through sqliteSource (the database file read-only; worker threads read
// their own chunks); the same with storeSource (every leaf read on the calling thread) is
// reported beside it.
// BENCH_VERIFIER_DB=path keeps the log there and reuses it on the next run. Node's compile
// cache is on, as in the civic-ledger executable.
import { createHash, hash, verify as nodeVerify } from 'node:crypto';
import { enableCompileCache } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIGNATURE_CONTEXTS } from '@civic-ledger/crypto';
import { parseCheckpoint, parseNote } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import {
  sqliteSource,
  storeSource,
  verifyLog,
  type LogSource,
  type VerifyOptions,
} from '@civic-ledger/verifier';
import { fmt, measure, pct, type Figure } from './lib.ts';
import { demoCityLog, type VerifierFixture } from './verifier-fixture.ts';

const EVENTS = Number(process.env['BENCH_VERIFIER_EVENTS'] ?? 100_000);
// As the civic-ledger executable does: its verify's worker threads load compiled modules
// from Node's compile cache instead of compiling (and type-stripping) them each run.
enableCompileCache();
const REFERENCE_PREFIX = 20_000;
const ZERO = Buffer.alloc(1);
const ONE = Buffer.from([1]);

/** The first `m` leaves of a source, with the checkpoints up to that size. */
function prefix(source: LogSource, m: number): LogSource {
  return {
    size: async () => Math.min(m, await source.size()),
    leaves: (from, to) => source.leaves(from, Math.min(to, m)),
    checkpoints: async () =>
      (await source.checkpoints()).filter((n) => parseCheckpoint(parseNote(n).text).size <= m),
  };
}

interface Run {
  /** Events per second (wall clock). */
  rate: number;
  /** CPU time of the process (all threads) per event, µs: less distorted by other load. */
  cpu: number;
}

/** One verifyLog run (throws if the log does not verify). */
async function rate(f: VerifierFixture, source: LogSource, options: Partial<VerifyOptions>): Promise<Run> {
  const n = await source.size();
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await verifyLog(source, { logKey: f.logKey, origin: f.origin, ...options });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (!r.ok) throw new Error(`the bench log does not verify: ${r.check} at ${r.index}: ${r.message}`);
  return { rate: n / seconds, cpu: (cpu.user + cpu.system) / n };
}

/** Runs each case `n` times, interleaved; for each, the run of median rate. */
async function rounds(cases: Record<string, () => Promise<Run>>, n: number): Promise<Record<string, Run>> {
  const samples: Record<string, Run[]> = {};
  for (let r = 0; r < n; r++) {
    for (const [name, run] of Object.entries(cases)) (samples[name] ??= []).push(await run());
  }
  const median = (s: Run[]) => [...s].sort((a, b) => a.rate - b.rate)[Math.floor(s.length / 2)]!;
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)]));
}

/** Raw node:crypto verify of the log's own event signatures, keys prebuilt (one thread). */
async function rawVerifyRate(f: VerifierFixture, store: SqliteStore): Promise<Run> {
  const context = Buffer.from(SIGNATURE_CONTEXTS.event, 'utf8');
  const jobs = (await store.getLeaves(1000, 3000)).map((row) => {
    const text = Buffer.from(row.leaf).toString('utf8');
    const eventText = text.slice(text.indexOf('"event":') + 8, text.lastIndexOf(',"index":'));
    const event = JSON.parse(eventText) as { emitter: string };
    const digest = createHash('sha256').update(eventText).digest();
    const signature = Buffer.from(JSON.parse(text).signature as string, 'base64');
    return {
      message: Buffer.concat([context, digest]),
      signature,
      key: f.keys.get(event.emitter)!.keyObject,
    };
  });
  for (const j of jobs)
    if (!nodeVerify(null, j.message, j.key, j.signature)) throw new Error('bench: bad signature');
  const cpu0 = process.cpuUsage();
  let done = 0;
  const r = measure(
    [
      {
        name: 'raw',
        run: () => {
          for (const j of jobs) nodeVerify(null, j.message, j.key, j.signature);
          done += jobs.length;
          return jobs.length;
        },
      },
    ],
    { rounds: 5, roundMs: 300 },
  );
  const cpu = process.cpuUsage(cpu0);
  return { rate: r.get('raw')!.opsPerSec, cpu: (cpu.user + cpu.system) / done };
}

export async function run(): Promise<Figure[]> {
  const cores = availableParallelism();
  const keep = process.env['BENCH_VERIFIER_DB'];
  const tmp = keep ? undefined : mkdtempSync(join(tmpdir(), 'cl-bench-verifier-'));
  const f = await demoCityLog(keep ?? join(tmp!, 'city.db'), EVENTS);
  const store = new SqliteStore({ path: f.path });
  const viaStore = storeSource(store);
  const source = sqliteSource(f.path);
  const n = await source.size();
  const figures: Figure[] = [];
  try {
    // Reading the leaves alone: the floor under any verifier reading this store.
    const read = await rounds(
      {
        read: async () => {
          const start = performance.now();
          const cpu0 = process.cpuUsage();
          for (let from = 0; from < n; from += 2000) await viaStore.leaves(from, from + 2000);
          const cpu = process.cpuUsage(cpu0);
          return { rate: n / ((performance.now() - start) / 1000), cpu: (cpu.user + cpu.system) / n };
        },
      },
      3,
    );

    const fast = await rounds(
      {
        auto: () => rate(f, source, { checkSignatures: false }),
        workers: () => rate(f, source, { checkSignatures: false, threads: cores }),
        inline: () => rate(f, source, { checkSignatures: false, threads: 0 }),
        storeWorkers: () => rate(f, viaStore, { checkSignatures: false, threads: cores }),
        reference: () =>
          rate(f, prefix(viaStore, REFERENCE_PREFIX), { checkSignatures: false, fastPath: false }),
      },
      3,
    );
    const w = fast['auto']!;
    const ref = fast['reference']!;
    // The least any verifier of these leaves does per event, on one thread: read the leaf,
    // hash it and one tree node (a tree of n leaves has n - 1 interior nodes), hash its
    // event's bytes (the chain and the signature name that hash) and parse the event
    // (emitter, stream, seq, prev, key, inputs), with nothing checked. Its CPU per event
    // bounds the rate the cores allow at all.
    const floorRun = await rounds(
      {
        floor: async () => {
          const start = performance.now();
          const cpu0 = process.cpuUsage();
          let sink = 0;
          let last = Buffer.alloc(32);
          for (let from = 0; from < n; from += 2000) {
            for (const row of await viaStore.leaves(from, from + 2000)) {
              const leaf = Buffer.from(row.leaf.buffer, row.leaf.byteOffset, row.leaf.byteLength);
              const at = leaf.indexOf('"event":') + 8;
              const end = leaf.lastIndexOf(',"index":');
              const leafHash = hash('sha256', Buffer.concat([ZERO, leaf]), 'buffer');
              sink ^= hash('sha256', Buffer.concat([ONE, last, leafHash]), 'buffer')[0]!;
              last = leafHash;
              sink ^= hash('sha256', leaf.subarray(at, end), 'buffer')[0]!;
              sink ^= (JSON.parse(leaf.toString('utf8', at, end)) as { seq: number }).seq;
            }
          }
          const cpu = process.cpuUsage(cpu0);
          if (sink === 0.5) throw new Error('unreachable'); // keeps the work observable
          return { rate: n / ((performance.now() - start) / 1000), cpu: (cpu.user + cpu.system) / n };
        },
      },
      3,
    );
    const floor = floorRun['floor']!;
    // The default: one worker fewer than the cores, the calling thread decoding a share.
    const auto = `${Math.max(1, cores - 1)} worker thread(s) + the calling thread (the default threads)`;
    figures.push({
      suite: 'verifier',
      metric: `verify without signature checks, ${fmt(n)} demo-city events on SQLite (sqliteSource), ${auto} (events/s; CPU µs per event, all threads)`,
      value: `${fmt(w.rate)}; ${w.cpu.toFixed(1)} µs`,
      baseline: `the reference path (one thread, no fast decoder) on the first ${fmt(REFERENCE_PREFIX)} leaves: ${fmt(ref.rate)}/s; ${ref.cpu.toFixed(1)} µs`,
      ratio: `${(w.rate / ref.rate).toFixed(1)}x; ${(ref.cpu / w.cpu).toFixed(1)}x less CPU`,
      target: '>= 100,000 events/s',
      met: w.rate >= 100_000,
    });
    figures.push({
      suite: 'verifier',
      metric:
        'floor: read each leaf, SHA-256 it, one tree node and its event bytes (node:crypto), JSON.parse the event; nothing checked, one thread (CPU µs per event)',
      value: `${floor.cpu.toFixed(1)} µs (${fmt(floor.rate)}/s)`,
      baseline: `the default verify above: ${w.cpu.toFixed(1)} µs`,
      ratio: `${cores} cores allow at most ${fmt((cores * 1e6) / floor.cpu)}/s for this floor alone`,
      target: '(context: what 100,000/s needs per event)',
      met: undefined,
    });
    const two = fast['workers']!;
    const inline = fast['inline']!;
    const sw = fast['storeWorkers']!;
    const rd = read['read']!;
    figures.push({
      suite: 'verifier',
      metric: `the same on ${cores} worker threads; on the calling thread only; with storeSource (leaves read on the calling thread), ${cores} worker threads (events/s; CPU µs per event)`,
      value: `${fmt(two.rate)}, ${two.cpu.toFixed(1)} µs; ${fmt(inline.rate)}, ${inline.cpu.toFixed(1)} µs; ${fmt(sw.rate)}, ${sw.cpu.toFixed(1)} µs`,
      baseline: `reading the leaves alone (storeSource): ${fmt(rd.rate)}/s, ${rd.cpu.toFixed(1)} µs`,
      ratio: `${pct(two.rate, rd.rate)}; ${pct(inline.rate, rd.rate)}; ${pct(sw.rate, rd.rate)} of reading`,
      target: '(context)',
      met: undefined,
    });

    // Interleaved rounds: the raw rate of this machine's cores drifts by up to ~20 % over
    // minutes (a shared host), so each figure is the median of rounds taken alternately.
    const withSigs = await rounds({ raw: () => rawVerifyRate(f, store), auto: () => rate(f, source, {}) }, 3);
    const raw = withSigs['raw']!;
    const signed = withSigs['auto']!;
    figures.push({
      suite: 'verifier',
      metric: `verify with signature checks, ${fmt(n)} demo-city events on SQLite (sqliteSource), ${cores} worker threads (the default threads with signatures) (events/s)`,
      value: fmt(signed.rate),
      baseline: `raw node:crypto Ed25519 verify of the same signatures ${fmt(raw.rate)}/s x ${cores} cores = ${fmt(raw.rate * cores)}`,
      ratio: pct(signed.rate, raw.rate * cores),
      target: '>= 70 %',
      met: signed.rate >= 0.7 * raw.rate * cores,
    });
    figures.push({
      suite: 'verifier',
      metric:
        'the same in CPU time: µs per event, all threads (what other load on the machine distorts least)',
      value: `${signed.cpu.toFixed(1)} µs`,
      baseline: `raw verify: ${raw.cpu.toFixed(1)} µs per signature`,
      ratio: pct(raw.cpu, signed.cpu),
      target: '(context: the efficiency 2 free cores would give)',
      met: undefined,
    });
  } finally {
    source.close();
    await store.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  return figures;
}
