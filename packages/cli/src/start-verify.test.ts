// `civic-ledger start --demo` as a real process, then `verify` against it (over HTTP and
// on a tampered copy of its data directory), each as a real child process. Read access is
// on by default: the demo's tokens, what they open, and `--access-control off`.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultStatePath } from './config.ts';
import { cli, startCli, type Started } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'cli-start-'));
const dataDir = join(root, 'data');
const stateDir = join(root, 'state');
const SIZE = 300;
let server: Started;

beforeAll(async () => {
  server = await startCli(['--demo', '--demo-size', String(SIZE), '--data-dir', dataDir]);
}, 30_000);

afterAll(async () => {
  if (server.child.exitCode === null) await server.stop();
  rmSync(root, { recursive: true, force: true });
});

const verifyArgs = () => [
  '--log-key',
  server.info.logKey,
  '--origin',
  server.info.origin,
  '--state-dir',
  stateDir,
];
/** The demo's oversight token, as start printed it: reading the log over HTTP needs it. */
const tokenArgs = () => ['--token', server.info.tokens!.oversight];
const readToken = (file: string) => readFileSync(file, 'utf8').trim();
const get = (url: string, token?: string) =>
  fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

describe('start --demo', { timeout: 30_000 }, () => {
  it('seeds a fresh data dir, prints the URL and the log key, writes the demo keys 0600', () => {
    expect(server.info.seeded).toBe(SIZE);
    expect(server.info.size).toBe(SIZE);
    expect(server.info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.info.origin).toBe('ledger.example-city.eu/log');
    expect(server.info.logKey.startsWith(`${server.info.origin}+`)).toBe(true);
    const police = join(dataDir, 'demo-keys', 'police.key');
    expect(statSync(police).mode & 0o777).toBe(0o600);
  });

  it('writes the read tokens of the oversight body and an auditor next to the demo keys (0600), printing only their paths', () => {
    expect(server.info.accessControl).toBe('tokens');
    expect(server.info.tokenIssuerKey).toBe(join(dataDir, 'token-issuer.key'));
    expect(statSync(server.info.tokenIssuerKey!).mode & 0o777).toBe(0o600);
    expect(server.info.tokens).toEqual({
      oversight: join(dataDir, 'demo-keys', 'oversight.token'),
      auditor: join(dataDir, 'demo-keys', 'auditor.token'),
    });
    for (const file of Object.values(server.info.tokens!)) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(server.stderr()).toContain(file);
      expect(server.stderr()).not.toContain(readToken(file));
    }
  });

  it('refuses entries and events without a token (401 TOKEN_REQUIRED), serves checkpoints and proofs without one', async () => {
    const base = server.info.url;
    const entries = await get(`${base}/v1/entries?from=0&limit=1`);
    expect(entries.status).toBe(401);
    expect(entries.headers.get('www-authenticate')).toContain('scope="auditor"');
    expect(await entries.json()).toMatchObject({ code: 'TOKEN_REQUIRED', details: { scope: 'auditor' } });

    const [one] = (
      (await (
        await get(`${base}/v1/entries?from=5&limit=1`, readToken(server.info.tokens!.auditor))
      ).json()) as {
        entries: { eventHash: string }[];
      }
    ).entries;
    const event = await get(`${base}/v1/events/${one!.eventHash}`);
    expect(event.status).toBe(401);
    expect(await event.json()).toMatchObject({ code: 'TOKEN_REQUIRED' });

    for (const path of [
      '/v1/checkpoint',
      '/v1/checkpoints',
      `/v1/proofs/inclusion?hash=${one!.eventHash}&size=${SIZE}`,
      `/v1/proofs/consistency?from=10&to=${SIZE}`,
    ]) {
      const res = await get(`${base}${path}`);
      expect(res.status, path).toBe(200);
    }
  });

  it('serves entries with the printed oversight token and records the read in the access log', async () => {
    const oversight = readToken(server.info.tokens!.oversight);
    const r = await get(`${server.info.url}/v1/entries?from=0&limit=3`, oversight);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { entries: unknown[] }).entries).toHaveLength(3);
    const log = (await (await get(`${server.info.url}/v1/access-log?limit=1000`, oversight)).json()) as {
      records: { org: string; scope: string; route: string; url: string; status: number }[];
    };
    expect(log.records).toContainEqual(
      expect.objectContaining({
        org: 'oversight-board',
        scope: 'oversight',
        route: '/v1/entries',
        url: '/v1/entries?from=0&limit=3',
        status: 200,
      }),
    );
    // The auditor reads entries but not the access log.
    const denied = await get(`${server.info.url}/v1/access-log`, readToken(server.info.tokens!.auditor));
    expect(denied.status).toBe(403);
  });
});

describe('verify --url', { timeout: 30_000 }, () => {
  it('verifies the demo log with the pinned key, prints JSON and saves the state', async () => {
    const r = await cli(['verify', '--url', server.info.url, ...verifyArgs(), ...tokenArgs(), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      ok: true,
      index: null,
      check: null,
      size: SIZE,
      treeSize: SIZE,
      stateSaved: true,
    });
    expect(report.checkpoints).toBeGreaterThanOrEqual(1);
    const state = JSON.parse(readFileSync(report.statePath, 'utf8'));
    expect(state).toMatchObject({ origin: server.info.origin, size: SIZE, rootHash: report.rootHash });

    // A second run is checked against the saved state: the log only grew.
    const again = await cli(['verify', '--url', server.info.url, ...verifyArgs(), ...tokenArgs()]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      new RegExp(`^OK: ${SIZE} entries, \\d+ checkpoints?, tree size ${SIZE}, root [0-9a-f]{64}\\n$`),
    );
    expect(again.stderr).toContain(`only grew since the saved size ${SIZE}`);
  });

  it('fails (exit 1) on checkpoints another key signed, naming the check; the state is kept', async () => {
    const otherKey = formatVerifierKey(generateSigningKey('other-log/k1'));
    const statePath = defaultStatePath(stateDir, server.info.origin);
    const saved = readFileSync(statePath, 'utf8');
    const r = await cli([
      'verify',
      '--url',
      server.info.url,
      '--log-key',
      otherKey,
      '--origin',
      server.info.origin,
      '--state-dir',
      stateDir,
      ...tokenArgs(),
      '--json',
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, check: 'CHECKPOINT_SIGNATURE', stateSaved: false, statePath });
    expect(typeof report.index).toBe('number');
    expect(readFileSync(statePath, 'utf8')).toBe(saved);
  });
});

describe('the config file', { timeout: 30_000 }, () => {
  it('./civic-ledger.json gives the URL, the pinned key and the state path (relative to it)', async () => {
    const cwd = join(root, 'auditor');
    mkdirSync(cwd);
    writeFileSync(
      join(cwd, 'civic-ledger.json'),
      JSON.stringify({ url: server.info.url, logKey: server.info.logKey, state: 'states/demo.json' }),
    );
    // The token from the environment, as a shell profile would set it.
    const r = await cli(['verify', '--threads', '1', '--json'], {
      cwd,
      env: { CIVIC_LEDGER_TOKEN: readToken(server.info.tokens!.oversight) },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, origin: server.info.origin, stateSaved: true });
    expect(JSON.parse(readFileSync(join(cwd, 'states', 'demo.json'), 'utf8')).size).toBe(SIZE);
  });
});

describe('verify --data-dir on a tampered copy', { timeout: 30_000 }, () => {
  it('stops at the changed leaf and names its index, event and check (exit 1)', async () => {
    expect(await server.stop()).toBe(0);
    expect(server.stderr()).toContain('stopped');
    const copy = join(root, 'tampered');
    cpSync(dataDir, copy, { recursive: true });
    const victim = 150;
    const db = new DatabaseSync(join(copy, 'ledger.db'));
    const row = db.prepare('SELECT leaf, ehash FROM leaves WHERE idx = ?').get(victim) as {
      leaf: Uint8Array;
      ehash: string;
    };
    const leaf = Buffer.from(row.leaf);
    // One digit of the claimed time: the leaf stays well-formed, its event is another one.
    const at = leaf.indexOf('"time":"2026-') + '"time":"2026-'.length + 1;
    leaf[at] = leaf[at] === 0x30 ? 0x31 : 0x30;
    db.prepare('UPDATE leaves SET leaf = ? WHERE idx = ?').run(leaf, victim);
    db.close();

    // The untouched data dir verifies (read-only, against the state saved over HTTP).
    const good = await cli(['verify', '--data-dir', dataDir, ...verifyArgs(), '--json']);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, size: SIZE });

    const statePath = JSON.parse(good.stdout).statePath as string;
    const savedState = readFileSync(statePath, 'utf8');
    const r = await cli(['verify', '--data-dir', copy, ...verifyArgs(), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, index: victim, check: 'EVENT_HASH', stateSaved: false });
    // The event the leaf now holds (its hash recomputed), not the one the store still names.
    expect(report.eventHash).toMatch(/^[0-9a-f]{64}$/);
    expect(report.eventHash).not.toBe(row.ehash);
    expect(report.message).toEqual(expect.any(String));
    expect(readFileSync(statePath, 'utf8')).toBe(savedState);

    const human = await cli(['verify', '--data-dir', copy, ...verifyArgs(), '--no-save']);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      `FAILED at ledger index ${victim} (event ${report.eventHash}): EVENT_HASH — `,
    );
  });
});

describe('start --demo on an existing demo data dir', { timeout: 30_000 }, () => {
  it('reuses the token files while they are valid, and issues new ones in place of a bad one', async () => {
    // The server was stopped by the test above; the data dir is the one it seeded.
    const files = {
      oversight: join(dataDir, 'demo-keys', 'oversight.token'),
      auditor: join(dataDir, 'demo-keys', 'auditor.token'),
    };
    const before = { oversight: readToken(files.oversight), auditor: readToken(files.auditor) };
    const again = await startCli(['--demo', '--data-dir', dataDir]);
    try {
      expect(again.info).toMatchObject({ seeded: 0, size: SIZE, tokens: files });
      expect(readToken(files.oversight)).toBe(before.oversight);
      expect(readToken(files.auditor)).toBe(before.auditor);
      expect(again.stderr()).not.toContain('issued');
    } finally {
      expect(await again.stop()).toBe(0);
    }

    writeFileSync(files.auditor, 'not.a.token\n');
    const third = await startCli(['--demo', '--data-dir', dataDir]);
    try {
      expect(readToken(files.oversight)).toBe(before.oversight);
      const auditor = readToken(files.auditor);
      expect(auditor).not.toBe('not.a.token');
      expect(statSync(files.auditor).mode & 0o777).toBe(0o600);
      expect(third.stderr()).toContain(
        `auditor token (transport-agency, scope auditor, valid 7 days): ${files.auditor}`,
      );
      const r = await get(`${third.info.url}/v1/entries?from=0&limit=1`, auditor);
      expect(r.status).toBe(200);
    } finally {
      await third.stop();
    }
  });
});

describe('start --access-control off', { timeout: 30_000 }, () => {
  it('serves every read to anyone, warns at start, and writes no tokens', async () => {
    const dir = join(root, 'open');
    const open = await startCli([
      '--demo',
      '--demo-size',
      '100',
      '--data-dir',
      dir,
      '--access-control',
      'off',
    ]);
    try {
      expect(open.info).toMatchObject({ accessControl: 'off', tokenIssuerKey: null, tokens: null });
      expect(open.stderr()).toContain('WARNING: read access control is off (--access-control off)');
      const r = await get(`${open.info.url}/v1/entries?from=0&limit=2`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as { entries: unknown[] }).entries).toHaveLength(2);
      expect(existsSync(join(dir, 'demo-keys', 'oversight.token'))).toBe(false);
      expect(existsSync(join(dir, 'token-issuer.key'))).toBe(false);
    } finally {
      await open.stop();
    }
  });
});
