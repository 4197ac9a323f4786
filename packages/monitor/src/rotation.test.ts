// Monitors following a real standalone ledger through a log key rotation (key A, the overlap
// A+B with CIVIC_LEDGER_NEXT_LOG_KEY_FILE, then B alone), restarted on the same port: one
// pinned with logKeys raises nothing and checks receipts of both keys; one pinning only A
// reports the first checkpoint only B signed, naming the other key, and does not move on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import type { RunningService } from '@civic-ledger/standalone-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Monitor } from './monitor.ts';
import { loadState } from './state.ts';
import {
  bootstrap,
  cast,
  collect,
  startLedger,
  submit as submitOnce,
  type Receipt,
} from './test-fixtures.ts';

const ORIGIN = 'ledger.monitor-rotation.test/log';
const root = mkdtempSync(join(tmpdir(), 'monitor-rot-'));
const dataDir = join(root, 'ledger');
const nextFile = join(root, 'next-log.key');
const c = cast();
let service: RunningService | undefined;
let port = 0;
let url: string;
let A: string;
let B: string;

/**
 * A kept-alive socket to the stopped instance may still be pooled when the next one listens on
 * the same port: one retry on a network error (submissions are idempotent).
 */
const retrying: typeof fetch = (input, init) => fetch(input, init).catch(() => fetch(input, init));
const submit = (to: string, events: readonly unknown[]) =>
  submitOnce(to, events).catch(() => submitOnce(to, events));

async function restart(keys: { logKeyFile?: string; nextLogKeyFile?: string } = {}) {
  await service?.close();
  service = await startLedger(dataDir, c.operator, { origin: ORIGIN, port, ...keys });
  url = service.url;
  port = Number(new URL(url).port);
}

beforeAll(async () => {
  await restart();
  A = formatVerifierKey(service!.logKey);
  const next = generateSigningKey(ORIGIN);
  writeSigningKeyFile(nextFile, next);
  B = formatVerifierKey(next);
}, 20_000);

afterAll(async () => {
  await service?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('a monitor through a log key rotation', () => {
  it('with logKeys: no alert before, during or after the overlap; pinning only the old key: a clear alert', async () => {
    const receipts: Receipt[] = [];
    receipts.push(...(await submit(url, bootstrap(c))));
    await service!.ledger.checkpointNow();
    const aloneSize = service!.ledger.size;
    const windows = [{ key: A }, { key: B, fromSize: aloneSize + 1 }];
    const statePath = join(root, 'following.json');
    const following = new Monitor({
      ledgerUrl: url,
      logKeys: windows,
      origin: ORIGIN,
      statePath,
      http: { fetch: retrying },
    });
    const stale = new Monitor({ ledgerUrl: url, logKey: A, origin: ORIGIN, http: { fetch: retrying } });
    expect(following.logKey).toBe(B);
    for (const m of [following, stale]) expect(await m.pollOnce()).toMatchObject({ ok: true, alerts: [] });

    // The overlap: checkpoints signed by A and B; both monitors follow.
    await restart({ nextLogKeyFile: nextFile });
    receipts.push(...(await submit(url, [c.agency.next(collect(1))])));
    await service!.ledger.checkpointNow();
    const overlapSize = service!.ledger.size;
    for (const m of [following, stale])
      expect(await m.pollOnce()).toMatchObject({ ok: true, alerts: [], size: overlapSize });

    // The switch: B alone.
    await restart({ logKeyFile: nextFile });
    receipts.push(...(await submit(url, [c.police.next(collect(2))])));
    await service!.ledger.checkpointNow();
    const finalSize = service!.ledger.size;
    // Receipts of A (before and during the overlap) and of B (after), all honoured.
    following.addReceipts(receipts.map((r, i) => ({ source: `r${i}`, receipt: r as never })));
    const after = await following.pollOnce();
    expect(after).toMatchObject({ ok: true, alerts: [], size: finalSize, entries: 1 });
    expect(after.receipts.map((r) => r.status)).toEqual(receipts.map(() => 'honoured'));

    // Only A pinned: the new checkpoint is reported (not a crash), naming B's key id, and
    // the monitor stays at the last size it could verify.
    const alerted = await stale.pollOnce();
    expect(alerted.ok).toBe(false);
    expect(alerted.size).toBe(overlapSize);
    expect(alerted.alerts.map((a) => a.code)).toEqual(['CHECKPOINT_INVALID']);
    const keyIdB = B.split('+')[1]!;
    expect(alerted.alerts[0]!.message).toMatch(
      new RegExp(
        `does not open with the pinned log key: .*signed by another key named ${ORIGIN.replaceAll('.', '\\.')} \\(key id ${keyIdB}\\): if the log key was rotated`,
      ),
    );
    // A receipt B signed is not evidence for it.
    stale.addReceipts([{ source: 'b', receipt: receipts.at(-1)! as never }]);
    expect((await stale.pollOnce()).receipts.at(-1)).toMatchObject({ status: 'invalid' });

    // The state file remembers the windows it trusted; a monitor reopened on it sees them.
    expect(loadState(statePath)).toMatchObject({ logKey: B, logKeys: windows, size: finalSize });
    const reopened = new Monitor({ ledgerUrl: url, logKey: B, origin: ORIGIN, statePath });
    expect(reopened.trustedBefore).toEqual(windows);
    expect(reopened.state.logKeys).toBeUndefined();
  });

  it('refuses options that pin no key, both forms, or a bad window, naming the option', () => {
    const make = (o: Record<string, unknown>) => () =>
      new Monitor({ ledgerUrl: 'http://127.0.0.1:1', ...o } as ConstructorParameters<typeof Monitor>[0]);
    expect(make({})).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', details: { option: 'logKey' } }),
    );
    expect(make({ logKey: A, logKeys: [{ key: B }] })).toThrow(/exactly one of logKey and logKeys/);
    expect(make({ logKeys: [] })).toThrow(/logKeys: at least one key/);
    expect(make({ logKeys: [{ key: A, fromSize: 3, untilSize: 2 }] })).toThrow(
      /logKeys\[0\]\.untilSize: untilSize must be >= fromSize/,
    );
    expect(make({ logKeys: [{ key: A }, { key: 'nope' }] })).toThrow(/logKeys\[1\]\.key: not a verifier key/);
  });
});
