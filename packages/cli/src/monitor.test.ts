// `civic-ledger monitor` against a real `civic-ledger start --demo` (one server for the file),
// each command a real child process: a clean --once run and its state file, org
// notifications to a real webhook receiver, an equivocating event given with --check-bundle,
// a receipt checked, a wrong log key, usage errors, and the continuous mode stopped by SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, readSigningKeyFile, toHex } from '@civic-ledger/crypto';
import { signEvent } from '@civic-ledger/events';
import { decodeLeaf } from '@civic-ledger/leaf';
import { hashLeaf } from '@civic-ledger/merkle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, startCli, type Started } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'cli-monitor-'));
let server: Started;
let size: number;

beforeAll(async () => {
  server = await startCli(['--demo', '--demo-size', '150', '--data-dir', join(root, 'data')]);
  size = ((await (await fetch(`${server.info.url}/v1/checkpoint.json`)).json()) as { size: number }).size;
}, 30_000);

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

// The monitor reads entries (auditor scope): the demo's oversight token, as start printed it.
const pin = () => [
  '--ledger',
  server.info.url,
  '--log-key',
  server.info.logKey,
  '--token',
  server.info.tokens!.oversight,
];
const state = (name: string) => ['--state', join(root, `${name}.json`)];
const alertsOf = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { code: string; severity: string; evidence: Record<string, unknown> });

async function entries(): Promise<{ index: number; leaf: string }[]> {
  const token = readFileSync(server.info.tokens!.auditor, 'utf8').trim();
  const res = await fetch(`${server.info.url}/v1/entries?from=0&limit=1000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as {
    entries: { index: number; leaf: string }[];
  };
  return body.entries.filter((e) => e.index < size);
}

describe('civic-ledger monitor', { timeout: 30_000 }, () => {
  it('--help, and usage errors exit 2 naming the flag', async () => {
    const help = await cli(['monitor', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      'Usage: civic-ledger monitor --ledger <url> (--log-key <key> | --log-keys <file>)',
    );
    const none = await cli(['monitor', '--once', '--log-key', server.info.logKey], { cwd: root });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--ledger: required');
    const unpaired = await cli(['monitor', ...pin(), '--once', '--org', 'police']);
    expect(unpaired.code).toBe(2);
    expect(unpaired.stderr).toContain('--org and --notify: give them in pairs');
    const noKey = await cli(['monitor', '--ledger', server.info.url, '--once'], { cwd: root });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('no log key');
  });

  it('--once on an honest log: no alert, exit 0, the state file saved; the next run has nothing new', async () => {
    const r = await cli(['monitor', ...pin(), ...state('honest'), '--once']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`monitor: verified ${size} new entries`);
    const saved = JSON.parse(readFileSync(join(root, 'honest.json'), 'utf8')) as {
      size: number;
      origin: string;
    };
    expect(saved).toMatchObject({ size, origin: server.info.origin });
    const again = await cli(['monitor', ...pin(), ...state('honest'), '--once']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`no new verified entries: tree size ${size}`);
  });

  it("another key under the log's name: CHECKPOINT_INVALID on stdout, exit 1", async () => {
    const impostor = formatVerifierKey(generateSigningKey(server.info.origin));
    const r = await cli([
      'monitor',
      '--ledger',
      server.info.url,
      '--log-key',
      impostor,
      ...state('impostor'),
      '--once',
    ]);
    expect(r.code).toBe(1);
    expect(alertsOf(r.stdout)).toMatchObject([{ code: 'CHECKPOINT_INVALID', severity: 'critical' }]);
  });

  it("--org --notify: every event in the organization's name is POSTed to its webhook", async () => {
    const got: { index: number; org: string }[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        got.push(JSON.parse(body) as { index: number; org: string });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const all = await entries();
      const emitters = all.map((e) => (decodeLeaf(e.leaf).event as { emitter: string }).emitter);
      // The organization with the most events that is not the operator.
      const counts = new Map<string, number>();
      for (const e of emitters) if (e !== 'ledger') counts.set(e, (counts.get(e) ?? 0) + 1);
      const org = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
      const expected = all
        .filter((e) => {
          const ev = decodeLeaf(e.leaf).event as { emitter: string; type: string; subjectOrg?: string };
          return ev.emitter === org || (ev.type === 'key' && ev.subjectOrg === org);
        })
        .map((e) => e.index);
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/notify`;
      const r = await cli(['monitor', ...pin(), ...state('notify'), '--once', '--org', org, '--notify', url]);
      expect(r.code, r.stderr).toBe(0);
      expect(got.map((n) => n.index)).toEqual(expected);
      expect(new Set(got.map((n) => n.org))).toEqual(new Set([org]));
      expect(r.stderr).toContain(`notifications: ${expected.length} delivered, 0 pending`);
    } finally {
      await new Promise((r) => hook.close(r));
    }
  });

  it('--check-bundle with an event its emitter signed at a seq the log holds another one: EQUIVOCATION', async () => {
    // An emitter of the demo city whose key file is at hand signs a second event at a seq it used.
    const keysDir = server.info.demoKeys!;
    const target = (await entries())
      .map((e) => ({ index: e.index, leaf: decodeLeaf(e.leaf) }))
      .find(({ leaf }) => {
        const ev = leaf.event as { emitter: string; key: string };
        if (ev.emitter === 'ledger' || !existsSync(join(keysDir, `${ev.emitter}.key`))) return false;
        return readSigningKeyFile(join(keysDir, `${ev.emitter}.key`)).name === ev.key;
      })!;
    const ev = target.leaf.event as { emitter: string; seq: number; time: string };
    const key = readSigningKeyFile(join(keysDir, `${ev.emitter}.key`));
    const twin = signEvent({ ...ev, time: '2020-01-01T00:00:00Z' } as never, key);
    const file = join(root, 'twin.json');
    writeFileSync(
      file,
      JSON.stringify([{ event: target.leaf.event, signature: target.leaf.signature }, twin.wire]),
    );
    const r = await cli(['monitor', ...pin(), ...state('evidence'), '--once', '--check-bundle', file]);
    expect(r.code).toBe(1);
    const alerts = alertsOf(r.stdout);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      code: 'EQUIVOCATION',
      evidence: {
        emitter: ev.emitter,
        seq: ev.seq,
        log: { index: target.index },
        other: { eventHash: twin.hash },
      },
    });
    expect(r.stderr).toContain('1 in-log, 1 equivocation');
  });

  it('--receipts: one the log gave is honoured, one signed by another key is not evidence, a misplaced one is an alert', async () => {
    const [first, second] = await entries();
    const leaf = decodeLeaf(first!.leaf);
    const { signReceipt } = await import('@civic-ledger/standalone-service');
    const logKey = readSigningKeyFile(join(server.info.dataDir, 'log.key'));
    const facts = {
      index: 0,
      eventHash: leaf.eventHash,
      leafHash: toHex(hashLeaf(new TextEncoder().encode(first!.leaf))),
      admitted: leaf.admitted,
    };
    const log = { origin: server.info.origin, checkpointWithinMs: 1000 };
    const file = join(root, 'receipts.jsonl');
    writeFileSync(
      file,
      [signReceipt(logKey, facts, log), signReceipt(generateSigningKey(server.info.origin), facts, log)]
        .map((x) => `${JSON.stringify({ receipt: x })}\n`)
        .join(''),
    );
    const r = await cli(['monitor', ...pin(), ...state('receipts'), '--once', '--receipts', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`receipt ${file} line 1.receipt (index 0): honoured`);
    expect(r.stderr).toContain(`receipt ${file} line 2.receipt (index 0): invalid`);

    // The log's own signature on a promise it did not keep: entry 0 at index 1.
    const misplaced = join(root, 'misplaced.json');
    writeFileSync(misplaced, JSON.stringify(signReceipt(logKey, { ...facts, index: 1 }, log)));
    const bad = await cli(['monitor', ...pin(), ...state('receipts'), '--once', '--receipts', misplaced]);
    expect(bad.code).toBe(1);
    expect(alertsOf(bad.stdout)).toMatchObject([
      {
        code: 'RECEIPT_NOT_HONOURED',
        evidence: { reason: 'moved', foundAt: { index: 0 }, entry: { index: 1, leaf: second!.leaf } },
      },
    ]);
  });

  it('without --once it follows until SIGTERM, then exits 0 with its state saved', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'monitor', ...pin(), ...state('follow'), '--interval', '200'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CIVIC_LEDGER_STATE_DIR: undefined },
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 15_000;
    while ((stderr.match(/tree size/g) ?? []).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('monitor: stopped');
    expect(JSON.parse(readFileSync(join(root, 'follow.json'), 'utf8'))).toMatchObject({ size });
  });
});
