// Log core: append throughput (with per-event signatures, and pre-verified), proof
// generation at 1,000,000 leaves, and peak memory while appending 1,000,000 events, each
// against a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { canonicalize } from '@civic-ledger/canonical-json';
import { fromHex, sha256HexOfUtf8, signedMessage } from '@civic-ledger/crypto';
import { decodeSubmission } from '@civic-ledger/events';
import { consistencyProof, inclusionProof, type NodeReader } from '@civic-ledger/merkle';
import { SqliteStore } from '@civic-ledger/storage';
import { chainEvents } from './chain-events.ts';
import { AGENCY, agencyKey, benchLedger } from './ledger-fixture.ts';
import { fmt, measure, pct, type Figure } from './lib.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cl-bench-'));
const MILLION = Number(process.env['BENCH_LEAVES'] ?? 1_000_000);

type Mode = 'signed' | 'pre-verified' | 'pre-verified-decoded';

async function appendRate(events: ReturnType<typeof chainEvents>, mode: Mode, name: string) {
  const store = new SqliteStore({ path: join(tmp, `${name}.db`) });
  const ledger = await benchLedger(store);
  const batch = 1000;
  // The decoded variant measures admission + append alone, as a writer fed by a separate
  // validating stage (other threads or processes) runs it.
  const decoded = mode === 'pre-verified-decoded' ? events.map((e) => decodeSubmission(e)) : [];
  // Up to 8 batches in flight, as concurrent clients would send them: the ledger's group
  // commit merges what arrives while a commit is running.
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < events.length; i += batch) {
    const p: Promise<void> = (
      mode === 'pre-verified-decoded'
        ? ledger.submitDecoded(decoded.slice(i, i + batch), { signaturesVerified: true })
        : ledger.submit(events.slice(i, i + batch), { signaturesVerified: mode !== 'signed' })
    ).then((results) => {
      inFlight.delete(p);
      const bad = results.find((r) => !r.ok);
      if (bad && !bad.ok) throw new Error(`bench event refused: ${bad.error.code} ${bad.error.message}`);
    });
    inFlight.add(p);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const rate = events.length / ((performance.now() - start) / 1000);
  await ledger.close();
  await store.close();
  return rate;
}

function rawVerifyRate(events: ReturnType<typeof chainEvents>): number {
  const key = createPublicKey({
    key: agencyKey.keyObject.export({ format: 'der', type: 'spki' }),
    format: 'der',
    type: 'spki',
  });
  const jobs = events.slice(0, 2000).map((e) => {
    const hash = fromHex(sha256HexOfUtf8(canonicalize(e.event)));
    return { message: signedMessage('event', hash), sig: Buffer.from(e.signature, 'base64') };
  });
  const r = measure(
    [
      {
        name: 'raw',
        run: () => {
          for (const j of jobs) nodeVerify(null, j.message, key, j.sig);
          return jobs.length;
        },
      },
    ],
    { rounds: 5, roundMs: 300 },
  );
  return r.get('raw')!.opsPerSec;
}

function rawSqliteInsertRate(events: ReturnType<typeof chainEvents>): number {
  // The same leaf-sized rows, straight into SQLite with the same durability settings.
  const db = new DatabaseSync(join(tmp, 'raw.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
  db.exec('CREATE TABLE leaves (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL)');
  const rows = events.map((e) =>
    Buffer.from(
      `{"admitted":"2026-11-28T10:00:00.000Z","event":${canonicalize(e.event)},"index":0,"signature":"${e.signature}","v":1}`,
    ),
  );
  const ins = db.prepare('INSERT INTO leaves (idx, leaf) VALUES (?, ?)');
  const start = performance.now();
  for (let i = 0; i < rows.length; i += 1000) {
    db.exec('BEGIN');
    for (let j = i; j < Math.min(rows.length, i + 1000); j++) ins.run(j, rows[j]!);
    db.exec('COMMIT');
  }
  const rate = rows.length / ((performance.now() - start) / 1000);
  db.close();
  return rate;
}

// The lookup-index design: rows with a 32-byte random unique key cost SQLite far more per
// insert than rows keyed by their ledger index; a 48-bit integer prefix of the hash in a
// non-unique index (what SqliteStore does) keeps lookups by hash for much less.
function indexDesignRates(n: number): { none: number; prefix48: number; unique32: number } {
  const leaf = Buffer.alloc(650, 120);
  const hashes = Array.from({ length: n }, (_, i) => Buffer.from(sha256HexOfUtf8(`h${i}`), 'hex'));
  const rate = (name: string, ddl: string, insert: string, params: (i: number) => unknown[]) => {
    const db = new DatabaseSync(join(tmp, `index-${name}.db`));
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;');
    db.exec(ddl);
    const ins = db.prepare(insert);
    const start = performance.now();
    for (let i = 0; i < n; i += 1000) {
      db.exec('BEGIN');
      for (let j = i; j < Math.min(n, i + 1000); j++) ins.run(...(params(j) as never[]));
      db.exec('COMMIT');
    }
    const r = n / ((performance.now() - start) / 1000);
    db.close();
    return r;
  };
  return {
    none: rate(
      'none',
      'CREATE TABLE t (idx INTEGER PRIMARY KEY, leaf BLOB)',
      'INSERT INTO t VALUES (?, ?)',
      (i) => [i, leaf],
    ),
    prefix48: rate(
      'prefix',
      'CREATE TABLE t (idx INTEGER PRIMARY KEY, leaf BLOB, hkey INTEGER); CREATE INDEX t_hkey ON t(hkey)',
      'INSERT INTO t VALUES (?, ?, ?)',
      (i) => [i, leaf, hashes[i]!.readUIntBE(0, 6)],
    ),
    unique32: rate(
      'unique',
      'CREATE TABLE t (idx INTEGER PRIMARY KEY, leaf BLOB, h BLOB UNIQUE)',
      'INSERT INTO t VALUES (?, ?, ?)',
      (i) => [i, leaf, hashes[i]!],
    ),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function run(): Promise<Figure[]> {
  const cores = availableParallelism();
  const figures: Figure[] = [];

  // 1. Append with per-event signatures vs raw verify x cores.
  const signed = chainEvents(20_000, { emitter: AGENCY, key: agencyKey });
  const raw = rawVerifyRate(signed);
  const withSigs = await appendRate(signed, 'signed', 'signed');
  figures.push({
    suite: 'log core',
    metric: `append with per-event signatures, SQLite, batches of 1000, 8 in flight (events/s)`,
    value: fmt(withSigs),
    baseline: `raw node:crypto Ed25519 verify ${fmt(raw)}/s x ${cores} cores = ${fmt(raw * cores)}`,
    ratio: pct(withSigs, raw * cores),
    target: '>= 70 %',
    met: withSigs >= 0.7 * raw * cores,
  });

  // 2. Pre-verified batches of 1000 vs raw SQLite insert of the same rows.
  const unsigned = chainEvents(200_000, { emitter: AGENCY, key: agencyKey, sign: false });
  const preDecoded = await appendRate(unsigned, 'pre-verified-decoded', 'decoded');
  const pre = await appendRate(unsigned, 'pre-verified', 'preverified');
  const rawInsert = rawSqliteInsertRate(unsigned);
  figures.push({
    suite: 'log core',
    metric:
      'append of pre-verified, pre-decoded batches of 1000 demo-sized events, 8 in flight, SQLite (events/s)',
    value: fmt(preDecoded),
    baseline: `raw SQLite insert of the same leaf rows: ${fmt(rawInsert)}/s`,
    ratio: pct(preDecoded, rawInsert),
    target: '>= 100,000 events/s',
    met: preDecoded >= 100_000,
  });
  figures.push({
    suite: 'log core',
    metric: 'the same, decoding (schema, canonical JSON, hash) on the writer thread too (events/s)',
    value: fmt(pre),
    baseline: `raw SQLite insert of the same leaf rows: ${fmt(rawInsert)}/s`,
    ratio: pct(pre, rawInsert),
    target: '(context)',
    met: undefined,
  });

  const idx = indexDesignRates(300_000);
  figures.push({
    suite: 'log core',
    metric: 'SQLite rows/s with a lookup index on a 48-bit hash prefix (our design), 300k rows',
    value: fmt(idx.prefix48),
    baseline: `no index: ${fmt(idx.none)}; 32-byte unique index: ${fmt(idx.unique32)}`,
    ratio: `${pct(idx.prefix48, idx.none)} of no index; ${(idx.prefix48 / idx.unique32).toFixed(1)}x the unique index`,
    target: '(design check)',
    met: undefined,
  });

  // 3 and 4. A child process appends MILLION events (peak RSS), then proofs at that size.
  const path = join(tmp, 'million.db');
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./million-child.ts', import.meta.url)), path, String(MILLION)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (child.status !== 0) throw new Error(`million-child failed (${child.status})`);
  const mem = JSON.parse(child.stdout) as {
    baselineRss: number;
    peakRss: number;
    seconds: number;
    size: number;
  };
  figures.push({
    suite: 'log core',
    metric: `peak RSS appending ${fmt(mem.size)} events (${mem.seconds.toFixed(0)} s)`,
    value: `${(mem.peakRss / 2 ** 20).toFixed(0)} MiB`,
    baseline: `RSS after start-up: ${(mem.baselineRss / 2 ** 20).toFixed(0)} MiB`,
    ratio: `${(mem.peakRss / mem.baselineRss).toFixed(1)}x`,
    target: '< 500 MiB',
    met: mem.peakRss < 500 * 2 ** 20,
  });

  const store = new SqliteStore({ path });
  const size = (await store.head()).size;
  const reader = store as NodeReader;
  const samples = { inclusion: [] as number[], consistency: [] as number[], read: [] as number[] };
  let seed = 12345;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < 3000; i++) {
    const idx = rnd(size);
    let t = performance.now();
    await inclusionProof(reader, idx, size);
    samples.inclusion.push(performance.now() - t);
    const s1 = 1 + rnd(size - 1);
    t = performance.now();
    await consistencyProof(reader, s1, size);
    samples.consistency.push(performance.now() - t);
    t = performance.now();
    await store.getLeaves(idx, idx + 1);
    samples.read.push(performance.now() - t);
  }
  await store.close();
  for (const k of ['inclusion', 'consistency'] as const) {
    const sorted = samples[k].slice(500).sort((a, b) => a - b); // the first 500 warm the caches
    const read = samples.read.slice(500).sort((a, b) => a - b);
    figures.push({
      suite: 'log core',
      metric: `${k} proof at ${fmt(size)} leaves, p50 / p99 (ms)`,
      value: `${percentile(sorted, 50).toFixed(3)} / ${percentile(sorted, 99).toFixed(3)}`,
      baseline: `one leaf read by index: ${percentile(read, 50).toFixed(3)} / ${percentile(read, 99).toFixed(3)}`,
      ratio: `${(percentile(sorted, 99) / percentile(read, 99)).toFixed(1)}x (p99)`,
      target: 'p99 < 1 ms',
      met: percentile(sorted, 99) < 1,
    });
  }
  rmSync(tmp, { recursive: true, force: true });
  return figures;
}
