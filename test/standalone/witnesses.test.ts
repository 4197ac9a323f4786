// Witnessed checkpoints as users run them: three witness services (services/witness/src/main.ts)
// and the standalone service (main.ts) as their own processes, a tlog-policy file asking 2 of 3,
// events submitted over HTTP, and the civic-ledger executable verifying with a policy. With one
// witness stopped, the ledger keeps publishing (2 of 3) and a verifier whose policy wants all
// three refuses the checkpoint.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { cli } from '@civic-ledger/cli/harness';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collect,
  freePort,
  http,
  registerDataset,
  registerSource,
  sleep,
  spawnService,
  waitReady,
  type ChildService,
} from './support.ts';
import { startWitnessProcess, witnessPolicy, type WitnessProcess } from './witness-process.ts';

const ORIGIN = 'ledger.witnessed-e2e.example/log';

const dir = mkdtempSync(join(tmpdir(), 'cl-e2e-witness-'));
/** The agency's read token (access control is on by default), issued in the first test. */
const TOKEN_FILE = join(dir, 'agency.token');
const children: ChildProcess[] = [];
let ledger: ChildService;
let base: string;
const logKey = generateSigningKey(ORIGIN);
const LOG_KEY = formatVerifierKey(logKey);
const witnesses: WitnessProcess[] = [];
const operator = new TestEmitter('ledger');
const agency = new TestEmitter('transport-agency');

afterAll(() => {
  for (const c of [...children, ledger?.child])
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const policy = (k: number | 'all'): string => witnessPolicy(LOG_KEY, witnesses, k);

interface Status {
  treeSize: number;
  quorumHeld: boolean | null;
  published: { size: number; witnesses: string[] } | null;
  latest: { witnesses: { witness: string; result: string; code?: string }[] } | null;
}

async function status(): Promise<Status> {
  return (await http(base, 'GET', '/v1/checkpoints/latest/witnesses')).json as Status;
}

/** Until the published checkpoint covers the whole log. */
async function covered(ms = 10_000): Promise<Status> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await status();
    if (s.published !== null && s.published.size === s.treeSize) return s;
    if (Date.now() > deadline) throw new Error(`no cosigned checkpoint covers the log: ${JSON.stringify(s)}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  witnesses.push(
    ...(await Promise.all(['w1', 'w2', 'w3'].map((n) => startWitnessProcess(dir, n, [LOG_KEY], children)))),
  );
  writeFileSync(join(dir, 'ledger-policy.txt'), policy(2));
  writeFileSync(join(dir, 'verify-2.txt'), policy(2));
  writeFileSync(join(dir, 'verify-all.txt'), policy('all'));
  writeSigningKeyFile(join(dir, 'log.key'), logKey);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  ledger = spawnService({
    CIVIC_LEDGER_DATA_DIR: join(dir, 'ledger'),
    CIVIC_LEDGER_LOG_KEY_FILE: join(dir, 'log.key'),
    CIVIC_LEDGER_PORT: String(port),
    CIVIC_LEDGER_ORIGIN: ORIGIN,
    CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
    CIVIC_LEDGER_WITNESS_POLICY_FILE: join(dir, 'ledger-policy.txt'),
    CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: '100',
    CIVIC_LEDGER_WITNESS_TIMEOUT_MS: '1000',
  });
  await waitReady(ledger, base, 15_000);
}, 60_000);

describe('the standalone service with three witness processes', { timeout: 60_000 }, () => {
  it('publishes cosigned checkpoints that civic-ledger verify --policy accepts', async () => {
    const boot = await http(base, 'POST', '/v1/events/batch', {
      events: [
        ...bootstrapEvents(operator, [agency]),
        agency.next(registerSource(agency.org)),
        agency.next(registerDataset(agency.org)),
      ],
    });
    expect(boot.status, boot.text).toBe(200);
    expect(
      boot.json.results.every((r: { ok: boolean }) => r.ok),
      boot.text,
    ).toBe(true);
    const receipt = boot.json.results[0].receipt as { checkpointWithinMs: number };
    expect(receipt.checkpointWithinMs).toBe(2000); // max(100, 1000) + 1000
    const s = await covered();
    expect(s.published!.witnesses).toEqual(['w1', 'w2', 'w3']);
    const ready = await http(base, 'GET', '/readyz');
    expect(ready.json.dependencies.witnesses).toContain('quorum oversight held');
    // verify reads entries: a token for the agency, issued with the key the service created.
    const issued = await cli([
      'token',
      'issue',
      '--key',
      join(dir, 'ledger', 'token-issuer.key'),
      '--origin',
      ORIGIN,
      '--org',
      agency.org,
      '--scope',
      'auditor',
      '--out',
      TOKEN_FILE,
    ]);
    expect(issued.code, issued.stderr).toBe(0);

    const r = await cli([
      'verify',
      '--url',
      base,
      '--token',
      TOKEN_FILE,
      '--policy',
      join(dir, 'verify-2.txt'),
      '--state-dir',
      join(dir, 'state'),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      treeSize: s.treeSize,
      quorum: 'oversight',
      witnesses: ['w1', 'w2', 'w3'],
    });
  });

  it('keeps publishing with one witness stopped; a 3-of-3 policy is refused by verify', async () => {
    const w3 = witnesses[2]!;
    const exited = new Promise((r) => w3.child.once('exit', r));
    w3.child.kill('SIGTERM');
    await exited;
    const more = await http(base, 'POST', '/v1/events/batch', {
      events: [1, 2, 3].map((n) => agency.next(collect(agency.org, n))),
    });
    expect(
      more.json.results.every((x: { ok: boolean }) => x.ok),
      more.text,
    ).toBe(true);
    const s = await covered();
    expect(s.published!.witnesses).toEqual(['w1', 'w2']);
    expect(s.latest!.witnesses[2]).toMatchObject({
      witness: 'w3',
      result: 'failed',
      code: 'WITNESS_UNREACHABLE',
    });

    const strict = await cli([
      'verify',
      '--url',
      base,
      '--token',
      TOKEN_FILE,
      '--log-key',
      LOG_KEY,
      '--policy',
      join(dir, 'verify-all.txt'),
      '--state-dir',
      join(dir, 'state'),
    ]);
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stdout).toContain('QUORUM_NOT_MET');
    expect(strict.stdout).toContain('group "oversight" needs 3 of w1, w2, w3, has 2 (w1, w2)');
    const relaxed = await cli([
      'verify',
      '--url',
      base,
      '--token',
      TOKEN_FILE,
      '--policy',
      join(dir, 'verify-2.txt'),
      '--state-dir',
      join(dir, 'state'),
    ]);
    expect(relaxed.code, relaxed.stderr).toBe(0);
    expect(relaxed.stdout).toContain('cosigned by w1, w2 (quorum oversight)');
  });
});
