// The standalone service with witnesses: real witness servers (services/witness, port 0), the
// real service on a socket, a policy file. Publication with 2 of 3, the status route, the
// readiness line, metrics, receipts' promise, nothing published without the quorum, and a
// policy that does not fit refused at start naming the variable and the line.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  formatVerifierKey,
  generateSigningKey,
  writeSigningKeyFile,
  type SigningKey,
} from '@civic-ledger/crypto';
import { requireCheckpointQuorum } from '@civic-ledger/ledger-core';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { parsePolicy } from '@civic-ledger/witness';
import { startWitness, type RunningWitness } from '@civic-ledger/witness-service';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { startService, type RunningService } from './server.ts';
import type { WitnessStatusBody } from './witnesses.ts';

const ORIGIN = 'ledger.witnessed.example/log';
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cl-standalone-w-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Setup {
  dir: string;
  logKey: SigningKey;
  witnesses: {
    name: string;
    key: SigningKey;
    db: string;
    port: number;
    vkey: string;
    running?: RunningWitness | undefined;
  }[];
  policyFile: string;
  start(i: number): Promise<void>;
  stop(i: number): Promise<void>;
}

/** A log key file, three running witnesses that know it, and a 2-of-3 policy file. */
async function setup(): Promise<Setup> {
  const dir = tempDir();
  const logKey = generateSigningKey(ORIGIN);
  writeSigningKeyFile(join(dir, 'log.key'), logKey);
  const s: Setup = {
    dir,
    logKey,
    witnesses: ['w1', 'w2', 'w3'].map((name) => ({
      name,
      key: generateSigningKey(`${name}.oversight.example`),
      db: join(dir, `${name}.db`),
      port: 0,
      vkey: '',
    })),
    policyFile: join(dir, 'policy.txt'),
    start: async (i) => {
      const w = s.witnesses[i]!;
      w.running = await startWitness(
        {
          key: w.key,
          dbPath: w.db,
          logs: [{ origin: ORIGIN, verifierKeys: [formatVerifierKey(logKey)] }],
          port: w.port,
        },
        { logger: false },
      );
      w.port = Number(new URL(w.running.url).port);
      w.vkey = w.running.witness.verifierKey;
    },
    stop: async (i) => {
      await s.witnesses[i]!.running?.close();
      s.witnesses[i]!.running = undefined;
    },
  };
  for (let i = 0; i < 3; i++) await s.start(i);
  cleanup.push(async () => {
    for (let i = 0; i < 3; i++) await s.stop(i);
  });
  writeFileSync(s.policyFile, policy(s, 2));
  return s;
}

function policy(s: Setup, k: number | 'all', logLine = `log ${formatVerifierKey(s.logKey)}`): string {
  return [
    '# the city oversight board and two universities',
    logLine,
    ...s.witnesses.map((w) => `witness ${w.name} ${w.vkey} http://127.0.0.1:${w.port}`),
    `group oversight ${k} w1 w2 w3`,
    'quorum oversight',
    '',
  ].join('\n');
}

async function service(s: Setup, operator: TestEmitter, env: Record<string, string> = {}) {
  const svc = await startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: s.dir,
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
      CIVIC_LEDGER_ORIGIN: ORIGIN,
      CIVIC_LEDGER_WITNESS_POLICY_FILE: s.policyFile,
      CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: '50',
      CIVIC_LEDGER_WITNESS_TIMEOUT_MS: '500',
      CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    }),
    { logger: false },
  );
  cleanup.push(() => svc.close());
  return svc;
}

async function get(svc: RunningService, path: string) {
  const res = await fetch(`${svc.url}${path}`);
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as unknown };
}

async function status(svc: RunningService): Promise<WitnessStatusBody> {
  return (await get(svc, '/v1/checkpoints/latest/witnesses')).json() as WitnessStatusBody;
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function submit(svc: RunningService, events: unknown[]) {
  const res = await fetch(`${svc.url}/v1/events/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  const body = (await res.json()) as {
    results: { ok: boolean; receipt: { index: number; checkpointWithinMs: number } }[];
  };
  expect(
    body.results.every((r) => r.ok),
    JSON.stringify(body),
  ).toBe(true);
  return body.results.map((r) => r.receipt);
}

describe('the standalone service with witnesses', () => {
  it('publishes cosigned checkpoints, reports the witnesses, and publishes nothing without the quorum', async () => {
    const s = await setup();
    const operator = new TestEmitter('ledger');
    const agency = new TestEmitter('transport-agency');
    const svc = await service(s, operator);
    const pol = parsePolicy(policy(s, 2));

    // Nothing cosigned yet: the latest checkpoint is not made up on demand.
    const none = await get(svc, '/v1/checkpoint');
    expect(none.status).toBe(404);
    expect(none.json()).toMatchObject({ code: 'NOT_FOUND' });

    const receipts = await submit(svc, bootstrapEvents(operator, [agency]));
    // max(interval 50, timeout 500) + timeout 500
    expect(receipts[0]!.checkpointWithinMs).toBe(1000);
    await waitFor('a cosigned checkpoint', async () => (await get(svc, '/v1/checkpoint')).status === 200);
    const note = (await get(svc, '/v1/checkpoint')).text;
    const q = requireCheckpointQuorum(note, pol);
    expect(q.size).toBe(receipts.length);
    expect(q.witnesses).toEqual(['w1', 'w2', 'w3']);
    const st = await status(svc);
    expect(st).toMatchObject({
      witnessed: true,
      quorum: 'oversight',
      quorumHeld: true,
      failingSince: null,
      checkpointWithinMs: 1000,
      treeSize: q.size,
      uncovered: 0,
      published: { size: q.size, witnesses: ['w1', 'w2', 'w3'] },
    });
    expect(st.witnesses.map((w) => w.knownSize)).toEqual([q.size, q.size, q.size]);
    // The checkpoint list and the checkpoint of that size serve the same cosigned note.
    expect((await get(svc, `/v1/checkpoints/${q.size}`)).text).toBe(note);

    // One down: 2 of 3 still publish.
    await s.stop(2);
    const more = await submit(svc, [
      operator.next({
        type: 'register',
        subject: { kind: 'organization', id: 'police', name: 'Police', role: 'agency', jurisdiction: 'NL' },
      } as never),
    ]);
    const size2 = more[0]!.index + 1;
    await waitFor('a checkpoint of 2 of 3', async () => (await status(svc)).published?.size === size2);
    const st2 = await status(svc);
    expect(st2.published!.witnesses).toEqual(['w1', 'w2']);
    expect(st2.latest!.witnesses[2]).toMatchObject({
      witness: 'w3',
      result: 'failed',
      code: 'WITNESS_UNREACHABLE',
    });
    expect(requireCheckpointQuorum((await get(svc, '/v1/checkpoint')).text, pol).witnesses).toEqual([
      'w1',
      'w2',
    ]);

    // Two down: nothing published, and every place that reports says so.
    await s.stop(1);
    const last = await submit(svc, [
      operator.next({
        type: 'register',
        subject: { kind: 'organization', id: 'transit', name: 'Transit', role: 'agency', jurisdiction: 'NL' },
      } as never),
    ]);
    const size3 = last[0]!.index + 1;
    await waitFor('a round without quorum', async () => (await status(svc)).quorumHeld === false);
    const st3 = await status(svc);
    expect(st3).toMatchObject({
      quorumHeld: false,
      uncovered: 1,
      published: { size: size2 },
      latest: { size: size3, quorum: false, published: false, signed: ['w1'] },
    });
    expect(st3.failingSince).not.toBeNull();
    expect(st3.latest!.shortfall[0]).toEqual({
      name: 'oversight',
      threshold: 2,
      members: ['w1', 'w2', 'w3'],
      holding: ['w1'],
    });
    expect(requireCheckpointQuorum((await get(svc, '/v1/checkpoint')).text, pol).size).toBe(size2);
    const ready = await get(svc, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      dependencies: {
        witnesses: expect.stringContaining('group "oversight" needs 2 of w1, w2, w3, has 1 (w1)'),
        checkpointWithinMs: '1000',
      },
    });
    const metrics = (await get(svc, '/metrics')).text;
    expect(metrics).toContain('civic_ledger_witness_quorum 0');
    expect(metrics).toContain(`civic_ledger_witness_published_size ${size2}`);
    expect(metrics).toMatch(
      /civic_ledger_witness_failures_total\{witness="w2",code="WITNESS_UNREACHABLE"\} [1-9]/,
    );
    expect(metrics).toContain('civic_ledger_events_accepted_total');
    expect(metrics).toContain('civic_ledger_checkpoint_within_seconds 1');

    // One back: published at the cadence.
    await s.start(1);
    await waitFor('publication once w2 is back', async () => (await status(svc)).published?.size === size3);
    expect((await status(svc)).quorumHeld).toBe(true);
    expect((await get(svc, '/metrics')).text).toContain('civic_ledger_witness_quorum 1');
  });

  it('says witnessed: false without a policy', async () => {
    const dir = tempDir();
    const operator = new TestEmitter('ledger');
    const svc = await startService(
      loadConfig({
        CIVIC_LEDGER_DATA_DIR: dir,
        CIVIC_LEDGER_PORT: '0',
        CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
        CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '300',
      }),
      { logger: false },
    );
    cleanup.push(() => svc.close());
    expect(await status(svc)).toMatchObject({
      witnessed: false,
      quorum: null,
      checkpointWithinMs: 300,
      witnesses: [],
      published: null,
    });
  });
});

describe('the witness policy configuration', () => {
  it('names the variable and the policy line of a policy that does not parse or cannot be read', () => {
    const dir = tempDir();
    const file = join(dir, 'policy.txt');
    writeFileSync(file, 'log not-a-key\nquorum none\n');
    const base = { CIVIC_LEDGER_OPERATOR_KEY: new TestEmitter('ledger').verifierKey };
    expect(() => loadConfig({ ...base, CIVIC_LEDGER_WITNESS_POLICY_FILE: file })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, CIVIC_LEDGER_WITNESS_POLICY_FILE: file })).toThrow(
      /CIVIC_LEDGER_WITNESS_POLICY_FILE: .*policy line 1: the log key does not parse/,
    );
    expect(() => loadConfig({ ...base, CIVIC_LEDGER_WITNESS_POLICY_FILE: join(dir, 'missing') })).toThrow(
      /CIVIC_LEDGER_WITNESS_POLICY_FILE: a readable tlog-policy file/,
    );
    expect(() =>
      loadConfig({
        ...base,
        CIVIC_LEDGER_WITNESS_POLICY_FILE: file,
        CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: '5',
      }),
    ).toThrow(/CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS/);
    const c = loadConfig({
      ...base,
      CIVIC_LEDGER_WITNESS_POLICY_FILE: (writeFileSync(file, 'quorum none\n'), file),
    });
    expect(c.witnessing).toMatchObject({ policyFile: file, intervalMs: 1000, timeoutMs: 2000 });
  });

  it('refuses at start a policy naming another log key, with its line, and main exits 1', async () => {
    const s = await setup();
    const other = formatVerifierKey(generateSigningKey(ORIGIN));
    writeFileSync(s.policyFile, policy(s, 2, `log ${other}`));
    const operator = new TestEmitter('ledger');
    await expect(service(s, operator)).rejects.toThrow(
      /CIVIC_LEDGER_WITNESS_POLICY_FILE: .*policy line 2: the log key .* is not this ledger's log key/,
    );

    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH ?? '',
        CIVIC_LEDGER_DATA_DIR: s.dir,
        CIVIC_LEDGER_PORT: '0',
        CIVIC_LEDGER_ORIGIN: ORIGIN,
        CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
        CIVIC_LEDGER_WITNESS_POLICY_FILE: s.policyFile,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('CIVIC_LEDGER_WITNESS_POLICY_FILE');
    expect(stderr).toContain('policy line 2: the log key');
    expect(stderr).not.toContain('could not start');
  }, 20_000);
});
