// `verify --log-keys` against a real standalone service whose log key was rotated
// (key A, then the overlap A+B with CIVIC_LEDGER_NEXT_LOG_KEY_FILE, then B alone).
import { join } from 'node:path';
import { genesisEvent, registerOrg } from '@civic-ledger/ledger-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, writeToken } from './harness.ts';
import { RotatingLedger } from './rotated-ledger.ts';

const ORIGIN = 'ledger.test.example/log';
const ledger = new RotatingLedger(ORIGIN);
const { operator, root } = ledger;
const stateDir = join(root, 'state');
let keyA: string;
let keyB: string;
/** The last size the old key signed alone, and the size of the overlap's checkpoint. */
let aloneSize: number;
let overlapSize: number;
/** The registered oversight body's read token (the service requires tokens by default). */
let tokenFile: string;

beforeAll(async () => {
  await ledger.keyA([genesisEvent(operator), registerOrg(operator, 'police', 'agency')]);
  aloneSize = ledger.size;
  await ledger.overlap([registerOrg(operator, 'board', 'oversight')]);
  overlapSize = ledger.size;
  const service = await ledger.keyB([registerOrg(operator, 'health', 'agency')]);
  keyA = ledger.A;
  keyB = ledger.B;
  tokenFile = await writeToken(service.access, {
    origin: ORIGIN,
    org: 'board',
    scope: 'oversight',
    file: join(root, 'board.token'),
  });
}, 30_000);

afterAll(() => ledger.close());

let files = 0;
const keysFile = (content: unknown): string => ledger.file(`keys-${files++}.json`, content);

const verify = (...args: string[]) =>
  cli([
    'verify',
    '--url',
    ledger.url,
    '--origin',
    ORIGIN,
    '--token',
    tokenFile,
    '--state-dir',
    stateDir,
    '--no-save',
    ...args,
  ]);

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
