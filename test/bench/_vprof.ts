import { SqliteStore } from '@civic-ledger/storage';
import { storeSource, verifyLog } from '@civic-ledger/verifier';
import { demoCityLog } from './verifier-fixture.ts';
const n = Number(process.argv[2] ?? 100000);
const mode = process.argv[3] ?? 'fast';
const t0 = performance.now();
const f = await demoCityLog(`/tmp/vb/city-${n}.db`, n);
console.error(`fixture ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const store = new SqliteStore({ path: f.path });
for (let i = 0; i < Number(process.argv[4] ?? 1); i++) {
  const t = performance.now();
  const opts: Record<string, unknown> =
    mode === 'fast' ? { checkSignatures: false } : mode === 'sig' ? {} : { signatureThreads: 2 };
  const r = await verifyLog(storeSource(store), { logKey: f.logKey, origin: f.origin, ...opts });
  const ms = performance.now() - t;
  if (!r.ok) throw new Error(`${r.check} at ${r.index}: ${r.message}`);
  console.log(`${mode}: ${n} in ${ms.toFixed(0)} ms = ${Math.round((n / ms) * 1000)}/s`);
}
await store.close();
