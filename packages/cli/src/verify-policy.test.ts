// `civic-ledger verify --policy` (runCli in this process, and once the real executable) against the standalone service
// publishing cosigned checkpoints with three real witness servers (2 of 3): accepted with
// the ledger's own policy, refused (QUORUM_NOT_MET, exit 1, the group named, no state saved)
// under a policy the checkpoint does not satisfy, the same for a bundle; usage errors for a
// policy that does not parse or names another log key.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import { httpSource } from '@civic-ledger/verifier';
import { startWitness, type RunningWitness } from '@civic-ledger/witness-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';
import { cli, writeToken } from './harness.ts';

/** runCli in this process (as the executable runs it), output captured. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    errIsTty: false,
    cwd: process.cwd(),
    env: {},
  });
  return { code, stdout, stderr };
}

const ORIGIN = 'ledger.cli-witnessed.example/log';
const logKey = generateSigningKey(ORIGIN);
const LOG_KEY = formatVerifierKey(logKey);

let root: string;
let witnesses: RunningWitness[];
let service: RunningService;
const operator = new TestEmitter('ledger');
const files = { two: '', all: '', broken: '', other: '' };
/** A registered agency's read token (the service requires tokens by default). */
let tokenFile: string;

const policyText = (k: number | 'all', log = LOG_KEY) =>
  [
    '# the ledger and its witnesses',
    `log ${log}`,
    ...witnesses.map((w, i) => `witness w${i + 1} ${w.witness.verifierKey} ${w.url}`),
    `group oversight ${k} w1 w2 w3`,
    'quorum oversight',
    '',
  ].join('\n');

async function submit(events: unknown[]): Promise<void> {
  const res = await fetch(`${service.url}/v1/events/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  const body = (await res.json()) as { results: { ok: boolean }[] };
  if (!body.results.every((r) => r.ok)) throw new Error(JSON.stringify(body));
}

/** Until the published checkpoint covers the whole log, cosigned by `n` witnesses. */
async function cosigned(n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = (await (await fetch(`${service.url}/v1/checkpoints/latest/witnesses`)).json()) as {
      treeSize: number;
      published: { size: number; witnesses: string[] } | null;
    };
    if (s.published?.size === s.treeSize && s.published.witnesses.length === n) return;
    if (Date.now() > deadline) throw new Error(`no checkpoint cosigned by ${n}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cli-verify-policy-'));
  writeSigningKeyFile(join(root, 'log.key'), logKey);
  witnesses = await Promise.all(
    [1, 2, 3].map((i) =>
      startWitness(
        {
          key: generateSigningKey(`w${i}.oversight.example`),
          dbPath: join(root, `w${i}.db`),
          logs: [{ origin: ORIGIN, verifierKeys: [LOG_KEY] }],
          port: 0,
        },
        { logger: false },
      ),
    ),
  );
  files.two = join(root, 'two.policy');
  files.all = join(root, 'all.policy');
  files.broken = join(root, 'broken.policy');
  files.other = join(root, 'other.policy');
  writeFileSync(files.two, policyText(2));
  writeFileSync(files.all, policyText('all'));
  writeFileSync(
    files.broken,
    `log ${LOG_KEY}\nwitness w1 ${witnesses[0]!.witness.verifierKey} ${witnesses[0]!.url}\nquorum w9\n`,
  );
  writeFileSync(files.other, policyText(2, formatVerifierKey(generateSigningKey(ORIGIN))));
  service = await startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: root,
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
      CIVIC_LEDGER_ORIGIN: ORIGIN,
      CIVIC_LEDGER_WITNESS_POLICY_FILE: files.two,
      CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: '50',
      CIVIC_LEDGER_WITNESS_TIMEOUT_MS: '500',
      CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '0',
    }),
    { logger: false },
  );
  await submit(bootstrapEvents(operator, [new TestEmitter('transport-agency')]));
  tokenFile = await writeToken(service.access, {
    origin: ORIGIN,
    org: 'transport-agency',
    scope: 'auditor',
    file: join(root, 'agency.token'),
  });
  await cosigned(3);
}, 30_000);

afterAll(async () => {
  await service?.close();
  for (const w of witnesses ?? []) await w.close();
  rmSync(root, { recursive: true, force: true });
});

const verify = (args: string[]) =>
  run(['verify', '--url', service.url, '--token', tokenFile, '--state-dir', join(root, 'state'), ...args]);

describe('verify --policy', { timeout: 30_000 }, () => {
  it('accepts a checkpoint carrying the quorum and names the witnesses; the policy pins the key', async () => {
    // The executable itself, once.
    const r = await cli([
      'verify',
      '--url',
      service.url,
      '--token',
      tokenFile,
      '--state-dir',
      join(root, 'state'),
      '--policy',
      files.two,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      check: null,
      quorum: 'oversight',
      witnesses: ['w1', 'w2', 'w3'],
      stateSaved: true,
    });
    const text = await verify(['--policy', files.all, '--log-key', LOG_KEY, '--no-save']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^OK: \d+ entries, \d+ checkpoints?, tree size \d+, root [0-9a-f]{64}, cosigned by w1, w2, w3 \(quorum oversight\)\n$/,
    );
  });

  it('refuses a checkpoint without the quorum (QUORUM_NOT_MET, exit 1, the group named, no state saved)', async () => {
    await witnesses[2]!.close();
    await submit([
      operator.next({
        type: 'register',
        subject: { kind: 'organization', id: 'police', name: 'Police', role: 'agency', jurisdiction: 'NL' },
      } as never),
    ]);
    await cosigned(2);
    const state = join(root, 'strict-state.json');
    const r = await verify(['--policy', files.all, '--log-key', LOG_KEY, '--state', state, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      ok: false,
      check: 'QUORUM_NOT_MET',
      quorum: 'oversight',
      stateSaved: false,
      treeSize: null,
    });
    expect(report['message']).toContain('group "oversight" needs 3 of w1, w2, w3, has 2 (w1, w2)');
    expect(existsSync(state)).toBe(false);
    const text = await verify(['--policy', files.all, '--log-key', LOG_KEY, '--no-save']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /^FAILED at tree size \d+: QUORUM_NOT_MET — the checkpoint of size \d+ lacks the quorum "oversight": group "oversight" needs 3/,
    );
    // The ledger's own policy (2 of 3) still holds; without --policy nothing changes.
    expect((await verify(['--policy', files.two, '--no-save'])).code).toBe(0);
    expect((await verify(['--log-key', LOG_KEY, '--no-save'])).code).toBe(0);

    // A full bundle of the log: the same decision offline.
    const { writeFullBundle } = await import('@civic-ledger/bundle');
    const bundle = join(root, 'bundle');
    const authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
    await writeFullBundle(bundle, httpSource(service.url, { headers: { authorization } }), {
      logKey: LOG_KEY,
      origin: ORIGIN,
    });
    const inBundle = ['verify', '--bundle', bundle, '--state-dir', join(root, 'state'), '--log-key', LOG_KEY];
    const b = await run([...inBundle, '--policy', files.all, '--json']);
    expect(b.code, b.stderr).toBe(1);
    expect(JSON.parse(b.stdout)).toMatchObject({
      ok: false,
      check: 'QUORUM_NOT_MET',
      file: 'checkpoints.jsonl',
    });
    const ok = await run([...inBundle, '--policy', files.two, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, bundle: 'full', witnesses: ['w1', 'w2'] });
  });

  it('a policy that does not parse, or names another log key, is a usage error (exit 2)', async () => {
    const broken = await verify(['--policy', files.broken]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('--policy');
    expect(broken.stderr).toContain('policy line 3');
    const other = await verify(['--policy', files.other, '--log-key', LOG_KEY]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('--policy: the policy has no log line with the pinned log key');
    const missing = await verify(['--policy', join(root, 'nope.policy'), '--log-key', LOG_KEY]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--policy: cannot read');
  });
});
