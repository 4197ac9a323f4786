// Verify throughput: builds a log of N events (default 20000) on SQLite, then verifies it
// without and with signature checks: the reference path (one thread, no fast decoder),
// the fast path on the calling thread, and on worker threads; with a raw node:crypto
// Ed25519 verify rate measured in the same run as the baseline for signatures.
// Run from the repository root: node scripts/bootstrap.mjs exec node packages/verifier/scripts/bench.ts [N]
// (test/bench's verifier suite measures the same on the demo city.)
import { verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSigningKey, formatVerifierKey, generateSigningKey, signedMessage } from '@civic-ledger/crypto';
import { decodeLeaf } from '@civic-ledger/leaf';
import { Ledger } from '@civic-ledger/ledger-core';
import { addKey, genesisEvent, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import { storeSource, verifyLog } from '../src/index.ts';

const n = Number(process.argv[2] ?? 20_000);
const origin = 'bench.example/log';
const logKey = generateSigningKey(origin);
const dir = mkdtempSync(join(tmpdir(), 'verifier-bench-'));
const store = new SqliteStore({ path: join(dir, 'ledger.db') });
const operator = new TestEmitter('ledger');
const ledger = await Ledger.open({
  store,
  origin,
  logSigner: signerFromKeyText(formatSigningKey(logKey)),
  operatorKey: operator.verifierKey,
  checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
});
const orgs = ['transport-agency', 'police', 'parking-company', 'research-lab'];
const emitters = orgs.map((o) => new TestEmitter(o));
const setup = [genesisEvent(operator)];
for (const e of emitters) {
  setup.push(registerOrg(operator, e.org, 'agency'));
  setup.push(addKey(operator, e.org, e.verifierKey, e.key.name));
}
await ledger.submit(setup);
const hashes: string[] = [];
for (let done = setup.length; done < n;) {
  const batch = [];
  for (let i = 0; i < 1000 && done < n; i++, done++) {
    const e = emitters[done % emitters.length]!;
    const derive = hashes.length > 0 && done % 5 === 0;
    const s = derive
      ? e.next({
          type: 'derive',
          dataset: { id: `${e.org}/counts-hourly`, version: `sha256:${'c'.repeat(64)}` },
          inputs: [hashes[hashes.length - 1]!],
          purpose: 'city:TrafficManagement',
          declaration: 'd'.repeat(64),
          processing: ['aggregate'],
          categories: ['city:VehicleCount'],
          personalData: 'none',
          records: done,
        } as never)
      : e.next({
          type: 'collect',
          source: `${e.org}/cameras/c${done % 7}`,
          dataset: { id: `${e.org}/counts`, version: `sha256:${(done % 16).toString(16).repeat(64)}` },
          inputs: [],
          purpose: 'city:TrafficManagement',
          declaration: 'd'.repeat(64),
          categories: ['city:VehicleCount'],
          personalData: 'none',
          records: done,
        } as never);
    batch.push(s);
  }
  const results = await ledger.submit(batch);
  for (const r of results) {
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    hashes.push(r.receipt.eventHash);
  }
}
await ledger.checkpointNow();
await ledger.close();
const size = (await store.head()).size;

const cores = availableParallelism();

async function time(label: string, options: Record<string, unknown>): Promise<number> {
  const t0 = performance.now();
  const r = await verifyLog(storeSource(store), { logKey: formatVerifierKey(logKey), origin, ...options });
  const ms = performance.now() - t0;
  if (!r.ok) throw new Error(`${r.check} at ${r.index}: ${r.message}`);
  const rate = (size / ms) * 1000;
  console.log(
    `${label.padEnd(48)} ${size} events in ${ms.toFixed(0).padStart(6)} ms: ${Math.round(rate)} events/s`,
  );
  return rate;
}

/** Raw node:crypto verify of the log's own signatures, prebuilt keys, one thread. */
async function rawVerifyRate(): Promise<number> {
  const keys = new Map(emitters.map((e) => [e.key.name, e.key.keyObject]));
  const jobs = (await store.getLeaves(setup.length, Math.min(size, setup.length + 2000))).map((row) => {
    const leaf = decodeLeaf(row.leaf);
    return {
      message: signedMessage('event', Buffer.from(leaf.eventHash, 'hex')),
      signature: Buffer.from(leaf.signature, 'base64'),
      key: keys.get(leaf.event['key'] as string)!,
    };
  });
  const t0 = performance.now();
  let done = 0;
  while (performance.now() - t0 < 1000)
    for (const j of jobs) done += nodeVerify(null, j.message, j.key, j.signature) ? 1 : 0;
  return (done / (performance.now() - t0)) * 1000;
}

for (let round = 1; round <= 2; round++) {
  console.log(`round ${round}`);
  const reference = await time('no signatures, reference path (before)', {
    checkSignatures: false,
    fastPath: false,
  });
  await time('no signatures, fast path, calling thread', { checkSignatures: false, threads: 0 });
  const fast = await time(`no signatures, fast path, ${cores} worker threads`, {
    checkSignatures: false,
    threads: cores,
  });
  console.log(`  fast path on workers: ${(fast / reference).toFixed(1)}x the reference path`);
  const raw = await rawVerifyRate();
  const signed = await time(`signatures, ${cores} worker threads`, { threads: cores });
  console.log(
    `  raw node:crypto verify ${Math.round(raw)}/s x ${cores} cores = ${Math.round(raw * cores)}/s: ${((signed / (raw * cores)) * 100).toFixed(0)} %`,
  );
}
await store.close();
rmSync(dir, { recursive: true, force: true });
