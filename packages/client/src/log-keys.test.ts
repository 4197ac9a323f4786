// `logKeys` against the real standalone service, its log key rotated mid-test: key A alone,
// the overlap A+B (CIVIC_LEDGER_NEXT_LOG_KEY_FILE), then B alone, on the same port and data
// directory, so one client follows the whole rotation.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { genesisEvent, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import type { SignedReceipt } from '@civic-ledger/receipts';
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerClient } from './client.ts';
import { ClientError } from './errors.ts';
import { verifyEvidence } from './evidence.ts';
import type { LogKeyWindow } from './log-keys.ts';
import { tempDir } from './test-server.ts';

const ORIGIN = 'ledger.rotation-test.example/log';
const dir = tempDir('cl-client-rot-');
const operator = new TestEmitter('ledger');
const nextFile = join(dir, 'next-log.key');
let service: RunningService | undefined;
let port = 0;
let url: string;
let A: string;
let B: string;

async function run(extra: Record<string, string>): Promise<void> {
  await service?.close();
  service = await startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: dir,
      CIVIC_LEDGER_PORT: String(port),
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
      CIVIC_LEDGER_ORIGIN: ORIGIN,
      CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '50',
      CIVIC_LEDGER_ACCESS_CONTROL: 'off',
      CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: '1000',
      ...extra,
    }),
    { logger: false },
  );
  url = service.url;
  // Restarts listen on the same port: the client keeps its baseUrl.
  port = Number(new URL(url).port);
}

const client = (pinned: { logKey: string } | { logKeys: LogKeyWindow[] }) =>
  new LedgerClient({ baseUrl: url, origin: ORIGIN, retry: { attempts: 3, baseDelayMs: 20 }, ...pinned });

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<ClientError> {
  const e = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ClientError);
  return e as ClientError;
}

/** Sizes: what A signed alone; the overlap's size (signed by A and B). */
let aloneSize: number;
let overlapSize: number;
/** One client pinned for the whole rotation: A open-ended, B from the overlap's first size. */
let following: LedgerClient;
const receipts: SignedReceipt[] = [];

beforeAll(async () => {
  await run({});
  A = formatVerifierKey(service!.logKey);
  const next = generateSigningKey(ORIGIN);
  writeSigningKeyFile(nextFile, next);
  B = formatVerifierKey(next);
}, 20_000);

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('LedgerClient with logKeys through a log key rotation', () => {
  it('before, during and after the overlap: receipts and inclusion proofs verify', async () => {
    // 1) Key A alone.
    receipts.push((await client({ logKey: A }).submit(genesisEvent(operator))).receipt);
    await service!.ledger.checkpointNow();
    aloneSize = service!.ledger.size;
    following = client({ logKeys: [{ key: A }, { key: B, fromSize: aloneSize + 1 }] });
    expect(following.logKey).toBe(B);
    expect((await following.verifyInclusion(receipts[0]!)).checkpoint.size).toBe(aloneSize);

    // 2) The overlap: receipts still signed by A, checkpoints by A and B.
    await run({ CIVIC_LEDGER_NEXT_LOG_KEY_FILE: nextFile });
    const during = await following.submit(registerOrg(operator, 'police', 'agency'));
    receipts.push(during.receipt);
    const proven = await following.verifyInclusion(during.receipt);
    expect(proven.checkpoint.size).toBe(aloneSize + 1);
    overlapSize = service!.ledger.size;
    // A client pinning only B already opens the overlap's checkpoints...
    expect((await client({ logKey: B }).verifiedCheckpoint()).size).toBe(overlapSize);
    // ...but not the receipts A still signs.
    expect((await rejection(client({ logKey: B }).verifyInclusion(during.receipt))).code).toBe('BAD_RECEIPT');

    // 3) The switch: B alone signs receipts and checkpoints.
    await run({ CIVIC_LEDGER_LOG_KEY_FILE: nextFile });
    const after = await following.submit(registerOrg(operator, 'board', 'oversight'));
    receipts.push(after.receipt);
    const latest = await following.verifyInclusion(after.receipt);
    expect(latest.checkpoint.size).toBe(overlapSize + 1);
    // Every earlier receipt (signed by A) is still accepted, proven against B's checkpoint.
    for (const r of receipts) {
      const { evidence, checkpoint } = await following.verifyInclusion(r);
      expect(checkpoint.size).toBe(overlapSize + 1);
      expect(verifyEvidence(evidence, { logKeys: following.logKeys, origin: ORIGIN }).size).toBe(
        overlapSize + 1,
      );
      // Offline with A alone, the evidence (a checkpoint only B signed) is refused.
      expect((await rejection(() => verifyEvidence(evidence, { logKey: A, origin: ORIGIN }))).code).toBe(
        'CHECKPOINT_UNVERIFIED',
      );
    }
  });

  it('windows are enforced: A past its window, B before its window, no key at a size', async () => {
    // The closed windows of the finished rotation verify too.
    const closed = client({
      logKeys: [
        { key: A, untilSize: overlapSize },
        { key: B, fromSize: overlapSize },
      ],
    });
    expect((await closed.verifiedCheckpoint()).size).toBe(overlapSize + 1);
    for (const r of receipts) expect(closed.checkReceipt(r, r.eventHash)).toEqual(r);

    // A receipt signed by A at index 0 is refused when A's window does not hold index 0.
    const late = client({ logKeys: [{ key: A, fromSize: 1 }, { key: B }] });
    const e = await rejection(() => late.checkReceipt(receipts[0]!, receipts[0]!.eventHash));
    expect(e).toMatchObject({ code: 'BAD_RECEIPT', message: expect.stringMatching(/valid at index 0/) });

    // A client that pinned only the old key cannot open B's checkpoints, and says so.
    const stale = client({ logKey: A });
    expect((await rejection(stale.verifiedCheckpoint())).code).toBe('CHECKPOINT_UNVERIFIED');
    expect((await rejection(() => stale.checkReceipt(receipts[2]!, receipts[2]!.eventHash))).code).toBe(
      'BAD_RECEIPT',
    );

    // B's window ends before the latest checkpoint and A's before that: no key at that size.
    const gap = client({
      logKeys: [
        { key: A, untilSize: aloneSize },
        { key: B, fromSize: aloneSize + 1, untilSize: overlapSize },
      ],
    });
    expect(await rejection(gap.verifiedCheckpoint())).toMatchObject({
      code: 'CHECKPOINT_UNVERIFIED',
      details: { reason: 'NO_KEY_AT_SIZE', size: overlapSize + 1 },
    });
  });

  it('exactly one of logKey and logKeys; windows are checked, naming the member', async () => {
    const options = (o: Record<string, unknown>) =>
      rejection(
        () => new LedgerClient({ baseUrl: url, ...o } as ConstructorParameters<typeof LedgerClient>[0]),
      );
    expect(await options({})).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'options.logKey, options.logKeys: give exactly one of the two',
    });
    expect((await options({ logKey: A, logKeys: [{ key: B }] })).message).toMatch(/exactly one/);
    expect((await options({ logKeys: [] })).message).toBe('options.logKeys: at least one key');
    expect((await options({ logKeys: [{ key: A, fromSize: 5, untilSize: 4 }] })).message).toBe(
      'options.logKeys[0].untilSize: untilSize must be >= fromSize',
    );
    expect((await options({ logKeys: [{ key: A }, { key: 'not a key' }] })).message).toMatch(
      /^options\.logKeys\[1\]\.key: a C2SP verifier key text/,
    );
    expect((await options({ logKeys: [{ key: A, since: 3 }] })).message).toMatch(/^options\.logKeys\[0\]/);
  });
});
