// Verify throughput: builds a log of N events (default 5000) on SQLite, then verifies it
// with signature checks (calling thread, then worker threads) and without.
// Run from the repository root: node packages/verifier/scripts/bench.ts [N]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSigningKey, formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { addKey, genesisEvent, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import { storeSource, verifyLog } from '../src/index.ts';

const n = Number(process.argv[2] ?? 5000);
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

async function time(label: string, options: { checkSignatures?: boolean; signatureThreads?: number }) {
  const t0 = performance.now();
  const r = await verifyLog(storeSource(store), { logKey: formatVerifierKey(logKey), origin, ...options });
  const ms = performance.now() - t0;
  if (!r.ok) throw new Error(`${r.check} at ${r.index}: ${r.message}`);
  console.log(
    `${label.padEnd(40)} ${size} events in ${ms.toFixed(0)} ms: ${Math.round((size / ms) * 1000)} events/s`,
  );
}

for (let round = 1; round <= 2; round++) {
  console.log(`round ${round}`);
  await time('signatures, calling thread', {});
  await time(`signatures, ${availableParallelism()} worker threads`, {
    signatureThreads: availableParallelism(),
  });
  await time('no signature checks (fast mode)', { checkSignatures: false });
}
await store.close();
rmSync(dir, { recursive: true, force: true });
