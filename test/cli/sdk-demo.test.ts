// Acceptance: the SDK emits a demo city into the real standalone service, and the real
// `civic-ledger` executable verifies it against the URL and against full and partial
// evidence bundles it exported, trusting only the pinned log key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerClient, Outbox, type EventOutcome } from '@civic-ledger/client';
import { formatVerifierKey } from '@civic-ledger/crypto';
import { generateDemoCity, LOG_ORIGIN, type DemoSubmission } from '@civic-ledger/demo-city';
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../standalone/support.ts';
import { cli, verify, writeToken } from './support.ts';

const SIZE = 500;
const root = mkdtempSync(join(tmpdir(), 'cli-sdk-demo-'));
const city = generateDemoCity({ seed: 'cli-sdk-demo', size: SIZE, batchSize: 100 });
let service: RunningService;
let logKey: string;
/** The city's oversight body's read token (reading entries needs one: access control is on). */
let token: string;
/** Every event the city emitted, in order, with what the ledger answered. */
const emitted: { submission: DemoSubmission; outcome: EventOutcome }[] = [];

beforeAll(async () => {
  service = await startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: join(root, 'data'),
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_ORIGIN: LOG_ORIGIN,
      CIVIC_LEDGER_OPERATOR_KEY: city.operatorKey,
      CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '100',
      CIVIC_LEDGER_LOG_LEVEL: 'silent',
    }),
  );
  // Published by the operator, pinned by everyone else: the service's public log key.
  logKey = formatVerifierKey(service.logKey);
  token = await writeToken(service.access, {
    origin: LOG_ORIGIN,
    org: 'oversight-board',
    scope: 'oversight',
    file: join(root, 'oversight.token'),
  });

  const client = new LedgerClient({ baseUrl: service.url, logKey });
  const outbox = await Outbox.open({ client, stateDir: join(root, 'outbox') });
  try {
    for (const batch of city.batchesSync()) {
      const outcomes = await outbox.submitSigned(batch);
      batch.forEach((submission, i) => emitted.push({ submission, outcome: outcomes[i]! }));
    }
  } finally {
    outbox.close();
  }
  // A signed checkpoint covering every event (opened with the pinned key).
  const deadline = Date.now() + 10_000;
  while ((await client.verifiedCheckpoint()).size < SIZE) {
    if (Date.now() > deadline) throw new Error(`no checkpoint of size ${SIZE} within 10 s`);
    await sleep(50);
  }
}, 60_000);

afterAll(async () => {
  await service?.close();
  rmSync(root, { recursive: true, force: true });
});

const pin = () => ['--log-key', logKey, '--origin', LOG_ORIGIN];
const withToken = () => ['--token', token];

describe('the SDK emits a demo city; civic-ledger verify passes', { timeout: 30_000 }, () => {
  it('every event is receipted by the ledger, in the order the city wrote them', () => {
    expect(emitted).toHaveLength(SIZE);
    const refused = emitted.filter((e) => !e.outcome.ok);
    expect(refused, JSON.stringify(refused[0]?.outcome)).toEqual([]);
    expect(emitted.map((e) => (e.outcome.ok ? e.outcome.receipt.index : -1))).toEqual(
      emitted.map((_, i) => i),
    );
    expect(emitted.map((e) => e.outcome.hash)).toEqual(emitted.map((e) => e.submission.hash));
  });

  it('against the URL: exit 0, ok, every event verified up to a checkpoint of their size', async () => {
    const state = join(root, 'state-url.json');
    const { code, report, run } = await verify([
      '--url',
      service.url,
      ...pin(),
      ...withToken(),
      '--state',
      state,
    ]);
    expect(code, run.stderr).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      index: null,
      check: null,
      size: SIZE,
      treeSize: SIZE,
      origin: LOG_ORIGIN,
      source: service.url,
      statePath: state,
      stateSaved: true,
    });
    expect(report.checkpoints).toBeGreaterThanOrEqual(1);
    // The root the CLI recomputed from the leaves is the one the service signed.
    const signed = await fetch(`${service.url}/v1/checkpoint.json`).then(
      (r) => r.json() as Promise<{ size: number; rootHash: string }>,
    );
    expect(signed.size).toBe(SIZE);
    expect(Buffer.from(signed.rootHash, 'base64').toString('hex')).toBe(report.rootHash);
  });

  it('against a full bundle it exported: exit 0, every event', async () => {
    const dir = join(root, 'full');
    const exported = await cli([
      'export',
      '--url',
      service.url,
      ...pin(),
      ...withToken(),
      '--out',
      dir,
      '--json',
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({
      ok: true,
      kind: 'full',
      entries: SIZE,
      treeSize: SIZE,
      verified: true,
    });

    const { code, report, run } = await verify([
      '--bundle',
      dir,
      ...pin(),
      '--state',
      join(root, 'state-full.json'),
    ]);
    expect(code, run.stderr).toBe(0);
    expect(report).toMatchObject({ ok: true, bundle: 'full', size: SIZE, treeSize: SIZE, stateSaved: true });
  });

  it('against a partial bundle of chosen event hashes: exit 0, each chosen event proven', async () => {
    // A movement of each kind the city is made of, named by event hash as an auditor would.
    const pick = (type: string) => {
      const found = emitted.findLast((e) => e.submission.event['type'] === type);
      if (found === undefined || !found.outcome.ok) throw new Error(`the city has no receipted ${type}`);
      return { index: found.outcome.receipt.index, eventHash: found.outcome.hash };
    };
    const chosen = [pick('derive'), pick('transfer'), pick('use')].sort((a, b) => a.index - b.index);
    const dir = join(root, 'partial');
    const exported = await cli([
      'export',
      '--url',
      service.url,
      ...pin(),
      ...withToken(),
      '--out',
      dir,
      '--events',
      chosen.map((c) => c.eventHash).join(','),
      '--json',
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({
      ok: true,
      kind: 'partial',
      treeSize: SIZE,
      verified: true,
    });

    const { code, report, run } = await verify(['--bundle', dir, ...pin(), '--no-save']);
    expect(code, run.stderr).toBe(0);
    expect(report).toMatchObject({ ok: true, bundle: 'partial', treeSize: SIZE, chosen, stateSaved: false });
    // The chosen events plus what proves their keys (down to the genesis leaf), not the whole log.
    expect(report.size).toBeGreaterThan(chosen.length);
    expect(report.size).toBeLessThan(SIZE);
  });
});
