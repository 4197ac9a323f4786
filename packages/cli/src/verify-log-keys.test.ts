// `verify --log-keys` against a real standalone service whose log key was rotated
// (key A, then the overlap A+B with CIVIC_LEDGER_NEXT_LOG_KEY_FILE, then B alone).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import {
  genesisEvent,
  registerOrg,
  TestEmitter,
  type TestSubmission,
} from '@civic-ledger/ledger-core/testing';
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './harness.ts';

const ORIGIN = 'ledger.test.example/log';
const root = mkdtempSync(join(tmpdir(), 'cli-log-keys-'));
const dataDir = join(root, 'data');
const stateDir = join(root, 'state');
const operator = new TestEmitter('ledger');
let service: RunningService;
let keyA: string;
let keyB: string;
/** The last size the old key signed alone, and the size of the overlap's checkpoint. */
let aloneSize: number;
let overlapSize: number;

async function run(extra: Record<string, string>, events: TestSubmission[]): Promise<RunningService> {
  const s = await startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: dataDir,
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
      CIVIC_LEDGER_ORIGIN: ORIGIN,
      ...extra,
    }),
    { logger: false },
  );
  for (const e of events) {
    const res = await fetch(`${s.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(e),
    });
    if (res.status !== 201) throw new Error(await res.text());
  }
  await s.ledger.checkpointNow();
  return s;
}

beforeAll(async () => {
  const first = await run({}, [genesisEvent(operator), registerOrg(operator, 'police', 'agency')]);
  keyA = formatVerifierKey(first.logKey);
  aloneSize = first.ledger.size;
  await first.close();
  const nextFile = join(root, 'next-log.key');
  const next = generateSigningKey(ORIGIN);
  writeSigningKeyFile(nextFile, next);
  keyB = formatVerifierKey(next);
  const overlap = await run({ CIVIC_LEDGER_NEXT_LOG_KEY_FILE: nextFile }, [
    registerOrg(operator, 'board', 'oversight'),
  ]);
  overlapSize = overlap.ledger.size;
  await overlap.close();
  service = await run({ CIVIC_LEDGER_LOG_KEY_FILE: nextFile }, [registerOrg(operator, 'health', 'agency')]);
}, 30_000);

afterAll(async () => {
  await service?.close();
  rmSync(root, { recursive: true, force: true });
});

let files = 0;
function keysFile(content: unknown): string {
  const path = join(root, `keys-${files++}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const verify = (...args: string[]) =>
  cli(['verify', '--url', service.url, '--origin', ORIGIN, '--state-dir', stateDir, '--no-save', ...args]);

describe('verify --log-keys', { timeout: 30_000 }, () => {
  it('verifies a rotated log with windows [A ..overlap] and [B overlap..]; A alone fails', async () => {
    const file = keysFile([
      { key: keyA, untilSize: overlapSize },
      { key: keyB, fromSize: overlapSize },
    ]);
    const ok = await verify('--log-keys', file, '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      size: overlapSize + 1,
      treeSize: overlapSize + 1,
    });

    const old = await verify('--log-key', keyA, '--json');
    expect(old.code).toBe(1);
    expect(JSON.parse(old.stdout)).toMatchObject({ ok: false, check: 'CHECKPOINT_SIGNATURE' });
  });

  it('fails at the overlap checkpoint when no window holds its size', async () => {
    const file = keysFile([
      { key: keyA, untilSize: aloneSize },
      { key: keyB, fromSize: overlapSize + 1 },
    ]);
    const r = await verify('--log-keys', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAILED at tree size ${overlapSize}: CHECKPOINT_SIGNATURE`);
  });

  it('usage errors: both flags, and a file whose members are wrong, naming the member', async () => {
    const file = keysFile([{ key: keyB }]);
    const both = await verify('--log-key', keyA, '--log-keys', file);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--log-key and --log-keys');

    const badKey = await verify('--log-keys', keysFile([{ key: keyA }, { key: 'not a key' }]));
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/--log-keys: .*: \[1\]\.key:/);
    const badSize = await verify('--log-keys', keysFile([{ key: keyA, fromSize: 5, untilSize: 2 }]));
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toMatch(/\[0\]\.untilSize: untilSize must be >= fromSize/);
    const negative = await verify('--log-keys', keysFile([{ key: keyA, fromSize: -1 }]));
    expect(negative.code).toBe(2);
    expect(negative.stderr).toMatch(/\[0\]\.fromSize: an integer >= 0/);
  });

  it('--help documents --log-keys', async () => {
    const r = await cli(['verify', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--log-keys <file>');
  });
});
