// Through real sockets: the service from server.ts on SQLite, and main.ts as a child process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueToken } from '@civic-ledger/access';
import { bearer } from '@civic-ledger/access/testing';
import { formatVerifierKey } from '@civic-ledger/crypto';
import { genesisEvent, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { openCheckpoint, verifierFromKeyText } from '@civic-ledger/signed-note';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { verifyReceipt } from '@civic-ledger/receipts';
import { startService, type RunningService } from './server.ts';

const dirs: string[] = [];
const running: RunningService[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cl-standalone-'));
  dirs.push(dir);
  return dir;
}

function configFor(dir: string, operator: TestEmitter) {
  return loadConfig({
    CIVIC_LEDGER_DATA_DIR: dir,
    CIVIC_LEDGER_PORT: '0',
    CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
    CIVIC_LEDGER_ORIGIN: 'ledger.test.example/log',
    CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '100',
  });
}

describe('the service on a real socket', () => {
  it('accepts events over HTTP, serves signed checkpoints, closes in order and reopens its data', async () => {
    const dir = tempDir();
    const operator = new TestEmitter('ledger');
    const config = configFor(dir, operator);
    const service = await startService(config, { logger: false });
    running.push(service);
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(config.logKeyFile).mode & 0o777).toBe(0o600);

    const genesis = genesisEvent(operator);
    const res = await fetch(`${service.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(genesis),
    });
    expect(res.status).toBe(201);
    const { receipt } = (await res.json()) as { receipt: Parameters<typeof verifyReceipt>[1] };
    expect(verifyReceipt(service.logKey, receipt)).toBe(true);

    const batch = await fetch(`${service.url}/v1/events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [registerOrg(operator, 'police', 'agency')] }),
    });
    expect(((await batch.json()) as { results: { ok: boolean }[] }).results[0]!.ok).toBe(true);

    const note = await (await fetch(`${service.url}/v1/checkpoint`)).text();
    const verifier = verifierFromKeyText(formatVerifierKey(service.logKey));
    const cp = openCheckpoint(note, { verifiers: [verifier], origin: 'ledger.test.example/log' });
    expect(cp.size).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

    // Close: intake stops first (503 while draining), then the ledger and the store.
    service.beginClose();
    const during = await fetch(`${service.url}/readyz`);
    expect(during.status).toBe(503);
    await service.close();
    running.splice(0);
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();

    // The same data directory reopens: the same log key, the entries and their checkpoints.
    const again = await startService(config, { logger: false });
    running.push(again);
    expect(formatVerifierKey(again.logKey)).toBe(formatVerifierKey(service.logKey));
    expect(again.ledger.size).toBe(2);
    // Entries need a read token (access control is on by default): the registered agency's,
    // signed with the issuer key the data directory kept.
    const token = await issueToken(again.access!.issuerKey, {
      origin: 'ledger.test.example/log',
      org: 'police',
      scope: 'auditor',
    });
    const res0 = await fetch(`${again.url}/v1/entries/0`, { headers: bearer(token) });
    expect(res0.status).toBe(200);
    const entry = (await res0.json()) as { eventHash: string };
    expect(entry.eventHash).toBe(genesis.hash);
  });
});

describe('main.ts', () => {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));

  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it('exits 1 with a readable message when the configuration is wrong', async () => {
    const p = run({ CIVIC_LEDGER_PORT: 'eighty' });
    expect(await p.exited).toBe(1);
    expect(p.err()).toContain('CIVIC_LEDGER_PORT: a decimal integer');
    expect(p.err()).toContain('CIVIC_LEDGER_OPERATOR_KEY: required');
  });

  it('listens, and on SIGTERM stops and exits 0', async () => {
    const dir = tempDir();
    const operator = new TestEmitter('ledger');
    const p = run({
      CIVIC_LEDGER_DATA_DIR: dir,
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
    });
    const deadline = Date.now() + 15_000;
    let url: string | undefined;
    while (url === undefined && Date.now() < deadline) {
      url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(p.out())?.[1];
      if (url === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(url, p.err()).toBeDefined();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(genesisEvent(operator)),
    });
    expect(res.status).toBe(201);
    // Read access control is on without being asked for: the issuer key is created 0600 in
    // the data dir, entries need a token, checkpoints do not.
    expect(statSync(join(dir, 'token-issuer.key')).mode & 0o777).toBe(0o600);
    const entry = await fetch(`${url}/v1/entries/0`);
    expect(entry.status).toBe(401);
    expect(await entry.json()).toMatchObject({ code: 'TOKEN_REQUIRED' });
    expect((await fetch(`${url}/v1/checkpoint`)).status).toBe(200);
    expect(p.out()).toContain('"msg":"created a new token issuer key"');
    expect(p.out()).not.toContain('read access control is off');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toContain('"msg":"closed"');
    expect(p.out()).not.toContain('PRIVATE+KEY');
  }, 30_000);

  it('with CIVIC_LEDGER_ACCESS_CONTROL=off set explicitly serves entries to anyone and warns at start', async () => {
    const dir = tempDir();
    const operator = new TestEmitter('ledger');
    const p = run({
      CIVIC_LEDGER_DATA_DIR: dir,
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
      CIVIC_LEDGER_ACCESS_CONTROL: 'off',
    });
    const deadline = Date.now() + 15_000;
    let url: string | undefined;
    while (url === undefined && Date.now() < deadline) {
      url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(p.out())?.[1];
      if (url === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(url, p.err()).toBeDefined();
    expect(p.out()).toMatch(
      /"level":40,.*"msg":"read access control is off: every read route is open to anyone"/,
    );
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(genesisEvent(operator)),
    });
    expect(res.status).toBe(201);
    expect((await fetch(`${url}/v1/entries/0`)).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 30_000);
});
