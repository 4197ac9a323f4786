// Log key rotation on the real service: the overlap (CIVIC_LEDGER_NEXT_LOG_KEY_FILE), then the switch.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import {
  genesisEvent,
  registerOrg,
  TestEmitter,
  type TestSubmission,
} from '@civic-ledger/ledger-core/testing';
import { verifyReceipt } from '@civic-ledger/receipts';
import { openCheckpoint, parseCheckpoint, parseNote, verifierFromKeyText } from '@civic-ledger/signed-note';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { startService, type RunningService } from './server.ts';

const ORIGIN = 'ledger.test.example/log';
const dirs: string[] = [];
const running: RunningService[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cl-rotation-'));
  dirs.push(dir);
  return dir;
}

function configFor(dir: string, operator: TestEmitter, extra: Record<string, string> = {}) {
  return loadConfig({
    CIVIC_LEDGER_DATA_DIR: dir,
    CIVIC_LEDGER_PORT: '0',
    CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
    CIVIC_LEDGER_ORIGIN: ORIGIN,
    CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '100',
    ...extra,
  });
}

async function start(config: ReturnType<typeof loadConfig>, logLines?: string[]) {
  const logger = logLines
    ? { stream: new Writable({ write: (c, _e, done) => (logLines.push(String(c)), done()) }) }
    : false;
  const service = await startService(config, { logger });
  running.push(service);
  return service;
}

async function submit(service: RunningService, event: TestSubmission) {
  const res = await fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { receipt: Parameters<typeof verifyReceipt>[1] }).receipt;
}

const opens = (note: string, key: string) => {
  try {
    openCheckpoint(note, { verifiers: [verifierFromKeyText(key)], origin: ORIGIN });
    return true;
  } catch {
    return false;
  }
};

describe('log key rotation', () => {
  it('overlap: checkpoints carry both keys; after the switch only the new key signs new ones', async () => {
    const dir = tempDir();
    const operator = new TestEmitter('ledger');
    const first = await start(configFor(dir, operator));
    await submit(first, genesisEvent(operator));
    await fetch(`${first.url}/v1/checkpoint`);
    const oldKey = formatVerifierKey(first.logKey);
    await first.close();
    running.splice(0);

    // 1) The overlap: the next key exists (generated beforehand), the service signs with both.
    const nextFile = join(dir, 'next-log.key');
    const next = generateSigningKey(ORIGIN);
    writeSigningKeyFile(nextFile, next);
    const newKey = formatVerifierKey(next);
    const lines: string[] = [];
    const overlap = await start(
      configFor(dir, operator, { CIVIC_LEDGER_NEXT_LOG_KEY_FILE: nextFile }),
      lines,
    );
    const open = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'ledger open');
    expect(open).toMatchObject({ logVerifierKey: oldKey, nextLogVerifierKey: newKey });
    const receipt = await submit(overlap, registerOrg(operator, 'police', 'agency'));
    // Receipts stay signed by the current key only.
    expect(verifyReceipt(overlap.logKey, receipt)).toBe(true);
    expect(verifyReceipt(next, receipt)).toBe(false);
    // The checkpoint of the new size (else signed within CHECKPOINT_MAX_DELAY_MS), as served.
    await overlap.ledger.checkpointNow();
    const during = await (await fetch(`${overlap.url}/v1/checkpoint`)).text();
    expect(parseCheckpoint(parseNote(during).text).size).toBe(2);
    expect(opens(during, oldKey)).toBe(true);
    expect(opens(during, newKey)).toBe(true);
    const overlapSize = overlap.ledger.size;
    const beforeSwitch = (await overlap.store.listCheckpoints(0, 1e15)).map((c) => c.note);
    await overlap.close();
    running.splice(0);

    // 2) The switch: the next key becomes the log key, NEXT unset.
    const after = await start(configFor(dir, operator, { CIVIC_LEDGER_LOG_KEY_FILE: nextFile }));
    expect(formatVerifierKey(after.logKey)).toBe(newKey);
    expect(after.nextLogKey).toBeUndefined();
    await submit(after, registerOrg(operator, 'board', 'oversight'));
    await after.ledger.checkpointNow();
    const latest = await (await fetch(`${after.url}/v1/checkpoint`)).text();
    expect(parseCheckpoint(parseNote(latest).text).size).toBe(3);
    expect(opens(latest, newKey)).toBe(true);
    expect(opens(latest, oldKey)).toBe(false);
    expect(after.ledger.size).toBe(overlapSize + 1);
    // The checkpoints stored before the overlap still carry only the old key's signature.
    const stored = await after.store.listCheckpoints(0, 1e15);
    const first1 = stored.find((c) => c.size === 1)!;
    expect(beforeSwitch).toContain(first1.note);
    expect(opens(first1.note, oldKey)).toBe(true);
    expect(opens(first1.note, newKey)).toBe(false);
  });

  it('a missing, world-readable or foreign next key is refused at start naming the variable', async () => {
    const dir = tempDir();
    const operator = new TestEmitter('ledger');
    const refused = async (file: string, rule: RegExp) => {
      const err = await startService(configFor(dir, operator, { CIVIC_LEDGER_NEXT_LOG_KEY_FILE: file }), {
        logger: false,
      }).then(
        (s) => (running.push(s), undefined),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('CIVIC_LEDGER_NEXT_LOG_KEY_FILE');
      expect((err as Error).message).toMatch(rule);
    };
    await refused(join(dir, 'absent.key'), /an existing private key file/);
    const open = join(dir, 'open.key');
    writeSigningKeyFile(open, generateSigningKey(ORIGIN));
    chmodSync(open, 0o644);
    await refused(open, /readable by other users/);
    const other = join(dir, 'other.key');
    writeSigningKeyFile(other, generateSigningKey('elsewhere.example/log'));
    await refused(other, /not "ledger\.test\.example\/log" as the log key/);
    await refused(join(dir, 'log.key'), /the same key as the current log key/);
  });
});
