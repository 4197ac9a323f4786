// Read access as an operator runs it: the standalone service as its own process, with access
// control on by default (CIVIC_LEDGER_ACCESS_CONTROL not set). The public scope (checkpoints,
// proofs, chain heads) needs no token; events and entries need an auditor token issued with
// the civic-ledger executable; every such read lands in the hash-chained access log, which the
// oversight body reads and an auditor may not; `civic-ledger verify` reads the log with --token.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAccessLog } from '@civic-ledger/access';
import { cli } from '@civic-ledger/cli/harness';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collect,
  freePort,
  http,
  registerDataset,
  registerSource,
  spawnService,
  waitReady,
  type ChildService,
} from './support.ts';

const ORIGIN = 'ledger.access-e2e.example/log';
const dir = mkdtempSync(join(tmpdir(), 'cl-e2e-access-'));
const operator = new TestEmitter('ledger');
const agency = new TestEmitter('transport-agency');
const board = new TestEmitter('oversight-board');
let svc: ChildService;
let base: string;
let logKey: string;

afterAll(async () => {
  if (svc && svc.child.exitCode === null) {
    svc.child.kill('SIGTERM');
    await svc.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  svc = spawnService({
    CIVIC_LEDGER_DATA_DIR: join(dir, 'data'),
    CIVIC_LEDGER_PORT: String(port),
    CIVIC_LEDGER_ORIGIN: ORIGIN,
    CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
    CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '100',
  });
  await waitReady(svc, base, 15_000);
  logKey = svc.logVerifierKey()!;
  const boot = bootstrapEvents(operator, [agency], {}, []);
  const setup = [
    ...boot,
    operator.next({
      type: 'register',
      subject: {
        kind: 'organization',
        id: 'oversight-board',
        name: 'Board',
        role: 'oversight',
        jurisdiction: 'NL',
      },
    } as never),
    operator.next({
      type: 'key',
      action: 'add',
      subjectOrg: 'oversight-board',
      subjectKey: board.key.name,
      publicKey: board.verifierKey,
    } as never),
    agency.next(registerSource('transport-agency')),
    agency.next(registerDataset('transport-agency')),
    agency.next(collect('transport-agency', 1)),
  ];
  const r = await http(base, 'POST', '/v1/events/batch', { events: setup });
  expect(r.status, r.text).toBe(200);
}, 60_000);

async function token(org: string, scope: string): Promise<string> {
  const r = await cli([
    'token',
    'issue',
    '--key',
    join(dir, 'data', 'token-issuer.key'),
    '--org',
    org,
    '--scope',
    scope,
    '--origin',
    ORIGIN,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

// Each case runs the civic-ledger executable once or more (a process start each).
describe('read access with tokens (real process)', { timeout: 30_000 }, () => {
  it('serves the public scope without a token and refuses events and entries without one', async () => {
    expect((await http(base, 'GET', '/v1/checkpoint')).status).toBe(200);
    const entries = await http(base, 'GET', '/v1/entries?from=0&limit=5');
    expect(entries.status).toBe(401);
    expect(entries.json).toMatchObject({ code: 'TOKEN_REQUIRED' });
    const forged = await http(base, 'GET', '/v1/entries?from=0&limit=5', undefined, {
      authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    });
    expect(forged.status).toBe(401);
    expect(forged.json).toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('an auditor token issued with the CLI reads entries; the read is in the access log, which only oversight reads', async () => {
    const auditor = await token('transport-agency', 'auditor');
    const r = await http(base, 'GET', '/v1/entries?from=0&limit=5', undefined, {
      authorization: `Bearer ${auditor}`,
    });
    expect(r.status, r.text).toBe(200);
    const denied = await http(base, 'GET', '/v1/access-log', undefined, {
      authorization: `Bearer ${auditor}`,
    });
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ code: 'SCOPE_INSUFFICIENT' });

    const oversight = await token('oversight-board', 'oversight');
    const log = await http(base, 'GET', '/v1/access-log?limit=100', undefined, {
      authorization: `Bearer ${oversight}`,
    });
    expect(log.status, log.text).toBe(200);
    const records = (log.json as { records: Array<Record<string, unknown>> }).records;
    expect(records.some((x) => x['org'] === 'transport-agency' && x['route'] === '/v1/entries')).toBe(true);
    expect(records.some((x) => x['route'] === '/v1/access-log' && x['status'] === 403)).toBe(true);
    expect(() => verifyAccessLog(records as never)).not.toThrow();
    // The token itself is never written down by the service.
    expect(svc.stderr()).not.toContain(auditor);
  });

  it('civic-ledger verify reads the log with --token, and is refused without it', async () => {
    const tokenFile = join(dir, 'auditor.token');
    writeFileSync(tokenFile, await token('transport-agency', 'auditor'), { mode: 0o600 });
    const pin = ['--url', base, '--log-key', logKey, '--origin', ORIGIN, '--state-dir', join(dir, 'state')];
    const ok = await cli(['verify', ...pin, '--token', tokenFile]);
    expect(ok.code, ok.stderr).toBe(0);
    const refused = await cli(['verify', ...pin.slice(0, -2), '--state-dir', join(dir, 'state2')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('401');
  });
});
