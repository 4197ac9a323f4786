// Bundles exported over HTTP from the real standalone service (SQLite, a real socket):
// the leaves through httpSource, proofs and checkpoints through httpProofProvider.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey } from '@civic-ledger/crypto';
import { generateDemoCity } from '@civic-ledger/demo-city';
import { httpSource, storeSource } from '@civic-ledger/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The bundle package does not depend on the service; the test starts it from its sources.
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import {
  BundleError,
  httpProofProvider,
  storeProofProvider,
  verifyBundle,
  writeFullBundle,
  writePartialBundle,
  type PartialBundleResult,
} from './index.ts';

const city = generateDemoCity({ seed: 'bundle-http', size: 240, batchSize: 80 });
let root: string;
let service: RunningService;
let pinned: { logKey: string; origin: string };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bundle-http-'));
  service = await startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: join(root, 'data'),
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_OPERATOR_KEY: city.operatorKey,
      CIVIC_LEDGER_ORIGIN: city.origin,
      CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: '50',
      CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '60000',
      // Exports read entries without a token here (tokens: packages/access, the CLI's tests).
      CIVIC_LEDGER_ACCESS_CONTROL: 'off',
    }),
    { logger: false },
  );
  pinned = { logKey: formatVerifierKey(service.logKey), origin: city.origin };
  for await (const events of city.batches()) {
    const res = await fetch(`${service.url}/v1/events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    const body = (await res.json()) as { results: { ok: boolean }[] };
    expect(body.results.every((r) => r.ok)).toBe(true);
  }
  await service.ledger.checkpointNow();
}, 60_000);

afterAll(async () => {
  await service?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('bundles over HTTP', () => {
  it('a full bundle exported through the API verifies offline', async () => {
    const dir = join(root, 'full');
    const m = await writeFullBundle(dir, httpSource(service.url), { ...pinned });
    expect(m.treeSize).toBe(service.ledger.size);
    expect(m.counts.checkpoints).toBeGreaterThan(2);
    expect(await verifyBundle(dir, pinned)).toMatchObject({ ok: true, size: service.ledger.size });
  });

  it('a partial bundle exported through the API is the one the store gives, and verifies', async () => {
    const [leaf] = await service.store.getLeaves(200, 201);
    const options = { ...pinned, created: new Date('2026-12-01T00:00:00Z'), hashes: [leaf!.eventHash] };
    const viaHttp = join(root, 'partial-http');
    await writePartialBundle(viaHttp, httpSource(service.url), {
      ...options,
      proofs: httpProofProvider(service.url),
    });
    const viaStore = join(root, 'partial-store');
    await writePartialBundle(viaStore, storeSource(service.store), {
      ...options,
      proofs: storeProofProvider(service.store),
    });
    for (const file of ['bundle.json', 'entries.jsonl', 'proofs.jsonl', 'checkpoints.jsonl'])
      expect(readFileSync(join(viaHttp, file), 'utf8')).toBe(readFileSync(join(viaStore, file), 'utf8'));
    const r = (await verifyBundle(viaHttp, pinned)) as PartialBundleResult;
    expect(r).toMatchObject({
      ok: true,
      kind: 'partial',
      chosen: [{ index: 200, eventHash: leaf!.eventHash }],
    });
  });

  it('names the URL and status when the API fails', async () => {
    const provider = httpProofProvider(`${service.url}/`);
    await expect(provider.checkpoint(3)).rejects.toMatchObject({ code: 'CHECKPOINT_NOT_FOUND' });
    const e = await provider.inclusionProof(5, 10_000).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BundleError);
    expect(e).toMatchObject({
      code: 'HTTP',
      details: { url: `${service.url}/v1/proofs/inclusion?index=5&size=10000`, status: 400 },
    });
    expect((await provider.findEvents(['0'.repeat(64)])).size).toBe(0);
  });
});
