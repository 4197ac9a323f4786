// The operator as the adversary, every part a real process: three witness services and a
// 2-of-3 policy, the standalone ledger (main.ts) run by an operator who forks it, restores a
// backup over receipted events and bypasses the witnesses, the civic-ledger executable
// (verify, monitor) as oversight bodies run it, and the SDK as an agency uses it. Each attack
// must be caught by the component the design names:
// - a second instance with another history (a split view): the witnesses refuse to cosign
//   it and record a FORK alarm; served without cosignatures, `verify --policy` refuses its
//   checkpoint and the monitor reports SPLIT_VIEW against what the witnesses cosigned;
// - a stolen key used: the organization is notified of the event in its name; once it revokes
//   the key, the thief's next event is refused at admission (KEY_REVOKED);
// - a receipted event dropped by restoring a backup, history rewritten and re-signed with the
//   log key: the SDK's inclusion check fails, the monitor reports RECEIPT_NOT_HONOURED,
//   the witnesses refuse the rewritten tree, verify's saved state refuses it;
// - a witness killed mid-run restarts with its state and refuses a rollback.
// (Entries edited, reordered or truncated in the store: test/cli/tamper.test.ts.)
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { cli } from '@civic-ledger/cli/harness';
import { LedgerClient } from '@civic-ledger/client';
import { addKey, bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
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
  type Body,
  type ChildService,
} from '../standalone/support.ts';
import { startWitnessProcess, witnessPolicy, type WitnessProcess } from '../standalone/witness-process.ts';

const ORIGIN = 'ledger.adversarial-e2e.example/log';
const dir = mkdtempSync(join(tmpdir(), 'cl-e2e-adversary-'));
const children: ChildProcess[] = [];
const logKey = generateSigningKey(ORIGIN);
const LOG_KEY = formatVerifierKey(logKey);
const POLICY = join(dir, 'policy.txt');
const witnesses: WitnessProcess[] = [];
const operator = new TestEmitter('ledger');
const agency = new TestEmitter('transport-agency');
const parking = new TestEmitter('parking-agency');

interface Instance {
  svc: ChildService;
  base: string;
  port: number;
  dataDir: string;
  witnessed: boolean;
}
const running: Instance[] = [];

/** The operator's ledger process on `dataDir`, with the one log key; `witnessed`: with the policy. */
async function startLedger(dataDir: string, port: number, witnessed = true): Promise<Instance> {
  const svc = spawnService({
    CIVIC_LEDGER_DATA_DIR: dataDir,
    CIVIC_LEDGER_LOG_KEY_FILE: join(dir, 'log.key'),
    CIVIC_LEDGER_PORT: String(port),
    CIVIC_LEDGER_ORIGIN: ORIGIN,
    CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
    // Reads without tokens here: read access has its own suite (test/standalone/access.test.ts).
    CIVIC_LEDGER_ACCESS_CONTROL: 'off',
    CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '100',
    ...(witnessed
      ? {
          CIVIC_LEDGER_WITNESS_POLICY_FILE: POLICY,
          CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: '100',
          CIVIC_LEDGER_WITNESS_TIMEOUT_MS: '1000',
        }
      : {}),
  });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(svc, base, 15_000);
  const instance = { svc, base, port, dataDir, witnessed };
  running.push(instance);
  return instance;
}

async function stopLedger(i: Instance): Promise<void> {
  i.svc.child.kill('SIGTERM');
  await i.svc.exited;
  running.splice(running.indexOf(i), 1);
}

interface WitnessStatus {
  treeSize: number;
  published: { size: number; witnesses: string[] } | null;
  latest: {
    size: number;
    quorum: boolean;
    witnesses: { witness: string; result: string; code?: string; refusal?: string }[];
  } | null;
}

const witnessStatus = async (i: Instance): Promise<WitnessStatus> =>
  (await http(i.base, 'GET', '/v1/checkpoints/latest/witnesses')).json as WitnessStatus;

/** Polls the ledger's witness status until `ok` holds (fails with the last status). */
async function until(i: Instance, ok: (s: WitnessStatus) => boolean, ms = 15_000): Promise<WitnessStatus> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await witnessStatus(i);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`witness status never matched: ${JSON.stringify(s)}`);
    await sleep(50);
  }
}

const coveredByQuorum = (i: Instance) =>
  until(i, (s) => s.published !== null && s.published.size === s.treeSize);

async function submit(i: Instance, events: readonly Body[]): Promise<{ index: number; eventHash: string }[]> {
  const r = await http(i.base, 'POST', '/v1/events/batch', { events });
  expect(r.status, r.text).toBe(200);
  for (const x of r.json.results) expect(x.ok, r.text).toBe(true);
  return r.json.results.map((x: { receipt: { index: number; eventHash: string } }) => x.receipt);
}

interface Alert {
  code: string;
  evidence: Record<string, unknown>;
}

/** `civic-ledger monitor --once` with the policy's witnesses; its alerts and exit code. */
async function monitorOnce(
  i: Instance,
  state: string,
  extra: string[] = [],
): Promise<{ code: number | null; alerts: Alert[]; stderr: string }> {
  const r = await cli([
    'monitor',
    '--once',
    '--ledger',
    i.base,
    '--log-key',
    LOG_KEY,
    '--policy',
    POLICY,
    '--state',
    state,
    ...extra,
  ]);
  const alerts = r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Alert);
  return { code: r.code, alerts, stderr: r.stderr };
}

/** `civic-ledger verify --url` with its own saved state. */
const verifyUrl = (i: Instance, state: string, extra: string[] = []) =>
  cli(['verify', '--url', i.base, '--log-key', LOG_KEY, '--state-dir', join(dir, state), ...extra]);

/** Until the ledger serves a checkpoint of `size` (signed by the log key, cosigned or not). */
async function checkpointOf(i: Instance, size: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await http(i.base, 'GET', '/v1/checkpoint.json')).json?.size !== size) {
    if (Date.now() > deadline) throw new Error(`no checkpoint of size ${size}`);
    await sleep(50);
  }
}

let ledger: Instance;
const ledgerPort = await freePort();
const forkPort = await freePort();

beforeAll(async () => {
  writeSigningKeyFile(join(dir, 'log.key'), logKey);
  witnesses.push(
    ...(await Promise.all(['w1', 'w2', 'w3'].map((n) => startWitnessProcess(dir, n, [LOG_KEY], children)))),
  );
  writeFileSync(POLICY, witnessPolicy(LOG_KEY, witnesses, 2));
  ledger = await startLedger(join(dir, 'ledger'), ledgerPort);
  await submit(ledger, [
    ...bootstrapEvents(operator, [agency, parking]),
    ...[agency, parking].flatMap((e) => [e.next(registerSource(e.org)), e.next(registerDataset(e.org))]),
    agency.next(collect(agency.org, 1)),
  ]);
  await coveredByQuorum(ledger);
}, 60_000);

afterAll(async () => {
  for (const c of [...children, ...running.map((i) => i.svc.child)])
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the operator as the adversary (real processes)', { timeout: 120_000 }, () => {
  it('a split view: the witnesses refuse to cosign the second history, verify --policy refuses it, the monitor reports SPLIT_VIEW', async () => {
    // The operator copies the ledger and runs the copy as a second instance with the same log
    // key: from here on the two show different histories to different verifiers.
    await stopLedger(ledger);
    cpSync(ledger.dataDir, join(dir, 'fork'), { recursive: true });
    ledger = await startLedger(ledger.dataDir, ledgerPort);
    const other = agency.peek(collect(agency.org, 900)); // the same seq as the next one
    await submit(ledger, [agency.next(collect(agency.org, 2))]);
    const honest = await coveredByQuorum(ledger);
    let fork = await startLedger(join(dir, 'fork'), forkPort);
    await submit(fork, [other]);

    // Asked to cosign the fork's checkpoint of the same size, every witness refuses.
    const refused = await until(fork, (s) => s.latest !== null && s.latest.size === honest.treeSize);
    expect(refused.latest!.quorum).toBe(false);
    expect(refused.published!.size).toBeLessThan(honest.treeSize);
    for (const w of refused.latest!.witnesses)
      expect(w, JSON.stringify(w)).toMatchObject({ result: 'failed' });
    // ...and records the conflicting checkpoints as an alarm with both as evidence.
    const alarms = (await http(witnesses[0]!.url, 'GET', '/alarms')).json as {
      alarms: { kind: string; origin: string }[];
    };
    expect(alarms.alarms).toContainEqual(expect.objectContaining({ kind: 'FORK', origin: ORIGIN }));

    // The operator bypasses the witnesses: the fork signs checkpoints with the log key alone.
    await stopLedger(fork);
    fork = await startLedger(fork.dataDir, forkPort, false);
    await checkpointOf(fork, honest.treeSize);
    // A verifier that trusts the log key alone cannot tell; one with the policy refuses.
    const alone = await verifyUrl(fork, 'alone-state');
    expect(alone.code, alone.stderr).toBe(0);
    const withPolicy = await verifyUrl(fork, 'fork-state', ['--policy', POLICY]);
    expect(withPolicy.code, withPolicy.stdout + withPolicy.stderr).toBe(1);
    expect(withPolicy.stdout).toContain('QUORUM_NOT_MET');
    // The monitor compares the fork's checkpoint with what the witnesses cosigned.
    const m = await monitorOnce(fork, join(dir, 'monitor-fork.json'));
    expect(m.code, m.stderr).toBe(1);
    expect(m.alerts.map((a) => a.code)).toContain('SPLIT_VIEW');
    await stopLedger(fork);
  });

  it('a stolen key used: the organization is notified of the event in its name; revoked, the key is refused at admission', async () => {
    const received: { eventHash: string; org: string; kind: string }[] = [];
    const hook: Server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        received.push(JSON.parse(body) as (typeof received)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/civic-ledger`;
    try {
      const state = join(dir, 'monitor-parking.json');
      const watch = ['--org', parking.org, '--notify', hookUrl];
      expect((await monitorOnce(ledger, state, watch)).code).toBe(0);
      received.length = 0;

      // A thief holding a copy of the parking agency's key emits in its name.
      const [theft] = await submit(ledger, [parking.next(collect(parking.org, 666))]);
      await coveredByQuorum(ledger);
      const m = await monitorOnce(ledger, state, watch);
      expect(m.code, m.stderr).toBe(0);
      expect(received).toContainEqual(
        expect.objectContaining({ kind: 'event', org: parking.org, eventHash: theft!.eventHash }),
      );

      // Told, the agency adds a new key and revokes the stolen one: the thief is refused.
      const stolen = parking.key;
      const fresh = generateSigningKey(`${parking.org}/k2`);
      await submit(ledger, [addKey(parking, parking.org, formatVerifierKey(fresh), fresh.name)]);
      parking.key = fresh;
      const [revoked] = await submit(ledger, [
        parking.next({
          type: 'key',
          action: 'revoke',
          subjectOrg: parking.org,
          subjectKey: stolen.name,
        } as Body),
      ]);
      parking.key = stolen;
      const again = await http(ledger.base, 'POST', '/v1/events', parking.peek(collect(parking.org, 667)));
      expect(again.status, again.text).toBe(401);
      expect(again.json).toMatchObject({
        code: 'KEY_REVOKED',
        details: { key: stolen.name, revokedAt: revoked!.index },
      });
      parking.key = fresh;
    } finally {
      await new Promise((r) => hook.close(r));
    }
  });

  it('a receipted event dropped by restoring a backup: the SDK and the monitor catch it, the witnesses and verify refuse the rewritten history', async () => {
    await stopLedger(ledger);
    cpSync(ledger.dataDir, join(dir, 'backup'), { recursive: true });
    ledger = await startLedger(ledger.dataDir, ledgerPort);

    // An agency submits through the SDK and checks its receipt against a cosigned checkpoint.
    const client = new LedgerClient({ baseUrl: ledger.base, logKey: LOG_KEY, policyFile: POLICY });
    const { receipt } = await client.submit(agency.next(collect(agency.org, 3)));
    const proven = await client.verifyInclusion(receipt);
    expect(proven.witnesses!.length).toBeGreaterThanOrEqual(2);
    writeFileSync(join(dir, 'receipt.json'), JSON.stringify(receipt));
    const receipts = ['--receipts', join(dir, 'receipt.json')];
    const state = join(dir, 'monitor-drop.json');
    const before = await monitorOnce(ledger, state, receipts);
    expect(before.code, JSON.stringify(before.alerts)).toBe(0);
    const seen = await verifyUrl(ledger, 'drop-state', ['--policy', POLICY]);
    expect(seen.code, seen.stdout + seen.stderr).toBe(0);

    // The operator restores the backup (the receipted event is gone), keeps going with other
    // events and re-signs the new history with the real log key.
    await stopLedger(ledger);
    rmSync(ledger.dataDir, { recursive: true, force: true });
    cpSync(join(dir, 'backup'), ledger.dataDir, { recursive: true });
    ledger = await startLedger(ledger.dataDir, ledgerPort);
    await submit(ledger, [parking.next(collect(parking.org, 668))]);

    // The witnesses cosigned the size that held the event: they refuse the rewritten tree.
    const refused = await until(ledger, (s) => s.latest !== null && s.latest.size >= receipt.index + 1);
    expect(refused.latest!.quorum).toBe(false);
    expect(refused.published!.size).toBeLessThanOrEqual(receipt.index);
    // So the operator bypasses them and publishes the new history signed with the log key alone.
    await stopLedger(ledger);
    ledger = await startLedger(ledger.dataDir, ledgerPort, false);
    await checkpointOf(ledger, receipt.index + 1);

    // The SDK cannot prove the receipted event any more.
    await expect(client.verifyInclusion(receipt, { waitMs: 500 })).rejects.toMatchObject({
      code: expect.stringMatching(/^(NOT_FOUND|PROOF_INVALID)$/),
    });
    // The monitor that followed the log reports it rewritten; one given the receipt later
    // reports the promise broken: another entry at its index, the event nowhere in the log.
    const following = await monitorOnce(ledger, state, receipts);
    expect(following.code, following.stderr).toBe(1);
    expect(following.alerts.map((a) => a.code)).toContain('LOG_INCONSISTENT');
    const fresh = await monitorOnce(ledger, join(dir, 'monitor-fresh.json'), receipts);
    expect(fresh.code, fresh.stderr).toBe(1);
    const broken = fresh.alerts.find((a) => a.code === 'RECEIPT_NOT_HONOURED');
    expect(broken?.evidence, JSON.stringify(fresh.alerts)).toMatchObject({ reason: 'dropped' });
    expect(fresh.alerts.map((a) => a.code)).toContain('SPLIT_VIEW');
    // verify, with the state it saved, refuses the rewritten log.
    const again = await verifyUrl(ledger, 'drop-state', ['--policy', POLICY]);
    expect(again.code, again.stdout + again.stderr).toBe(1);
    expect(again.stdout).toMatch(/LOG_(TRUNCATED|REWRITTEN)|QUORUM_NOT_MET/);
    const keyOnly = await verifyUrl(ledger, 'drop-state');
    expect(keyOnly.code, keyOnly.stdout + keyOnly.stderr).toBe(1);
    expect(keyOnly.stdout).toContain('LOG_REWRITTEN');
  });

  it('a witness killed mid-run restarts with its state and refuses a rollback', async () => {
    const w1 = witnesses[0]!;
    const path = `/checkpoint/${encodeURIComponent(ORIGIN)}`;
    const cosigned = await http(w1.url, 'GET', path);
    expect(cosigned.status).toBe(200);
    w1.child.kill('SIGKILL');
    await new Promise((r) => w1.child.once('exit', r));
    const port = Number(new URL(w1.url).port);
    const restarted = await startWitnessProcess(dir, 'w1', [LOG_KEY], children, port);
    witnesses[0] = restarted;
    expect((await http(restarted.url, 'GET', path)).text).toBe(cosigned.text);

    // A rollback: an older checkpoint, signed by the real log key, presented as the latest.
    const latestSize = Number(cosigned.text.split('\n')[1]);
    const page = (await http(ledger.base, 'GET', '/v1/checkpoints?from=0&limit=1')).json as {
      checkpoints: { size: number; note: string }[];
    };
    const older = page.checkpoints[0]!;
    expect(older.size).toBeLessThan(latestSize);
    const r = await fetch(`${restarted.url}/add-checkpoint`, {
      method: 'POST',
      body: `old ${older.size}\n\n${older.note}`,
    });
    expect(r.status).toBe(409);
    expect((await r.text()).trim()).toBe(String(latestSize));
    const alarms = (await http(restarted.url, 'GET', '/alarms')).json as { alarms: { kind: string }[] };
    expect(alarms.alarms.map((a) => a.kind)).toContain('ROLLBACK');
    expect((await http(restarted.url, 'GET', path)).text).toBe(cosigned.text);
  });
});
