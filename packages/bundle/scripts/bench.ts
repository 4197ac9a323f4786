// Bundle throughput and memory: a demo city of N events on SqliteStore, exported as a full
// bundle, verified from the files (with and without signatures; baseline: verifyLog over
// the store in the same run), and a partial bundle of 100 events exported and verified.
//   node scripts/bootstrap.mjs exec node packages/bundle/scripts/bench.ts [N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSigningKey, formatVerifierKey } from '@civic-ledger/crypto';
import { generateDemoCity } from '@civic-ledger/demo-city';
import { Ledger } from '@civic-ledger/ledger-core';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import { storeSource, verifyLog } from '@civic-ledger/verifier';
import { storeProofProvider, verifyBundle, writeFullBundle, writePartialBundle } from '../src/index.ts';

const n = Number(process.argv[2] ?? 20_000);
const root = mkdtempSync(join(tmpdir(), 'bundle-bench-'));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);

async function timed<T>(label: string, count: number, f: () => Promise<T>): Promise<T> {
  peak = process.memoryUsage().rss;
  const t = performance.now();
  const r = await f();
  const s = (performance.now() - t) / 1000;
  console.log(`${label}: ${s.toFixed(2)} s, ${Math.round(count / s)}/s, peak RSS ${mib(peak)}`);
  return r;
}

try {
  const city = generateDemoCity({ seed: 'bench', size: n });
  const store = new SqliteStore({ path: join(root, 'ledger.db') });
  const ledger = await Ledger.open({
    store,
    origin: city.origin,
    logSigner: signerFromKeyText(formatSigningKey(city.logKey)),
    operatorKey: city.operatorKey,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    now: () => Date.parse(city.end) + 60_000,
  });
  for await (const batch of city.batches()) await ledger.submit(batch);
  await ledger.checkpointNow();
  const pinned = { logKey: formatVerifierKey(city.logKey), origin: city.origin };
  const size = ledger.size;

  const full = join(root, 'full');
  const m = await timed(`write full (${size} entries)`, size, () =>
    writeFullBundle(full, storeSource(store), pinned),
  );
  console.log(`  entries.jsonl ${mib(m.files['entries.jsonl'].bytes)}, ${m.counts.checkpoints} checkpoints`);
  // Baseline: the same verification straight from the store.
  await timed('verifyLog over the store (baseline)', size, () => verifyLog(storeSource(store), pinned));
  const r1 = await timed('verify full', size, () => verifyBundle(full, pinned));
  const r2 = await timed('verify full, no signatures', size, () =>
    verifyBundle(full, { ...pinned, checkSignatures: false }),
  );
  const partial = join(root, 'partial');
  const indexes = Array.from({ length: 100 }, (_, i) => Math.floor(((i + 1) * size) / 101));
  await timed('write partial (100 events)', 100, () =>
    writePartialBundle(partial, storeSource(store), {
      ...pinned,
      indexes,
      proofs: storeProofProvider(store),
    }),
  );
  const r3 = await timed('verify partial', 100, () => verifyBundle(partial, pinned));
  console.log(`results: ${r1.ok} ${r2.ok} ${r3.ok}`);
  await ledger.close();
  await store.close();
} finally {
  clearInterval(sampler);
  rmSync(root, { recursive: true, force: true });
}
