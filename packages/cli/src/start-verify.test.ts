// `civic-ledger start --demo` as a real process, then `verify` against it (over HTTP and
// on a tampered copy of its data directory), each as a real child process.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
});

describe('verify --url', { timeout: 30_000 }, () => {
  it('verifies the demo log with the pinned key, prints JSON and saves the state', async () => {
    const r = await cli(['verify', '--url', server.info.url, ...verifyArgs(), '--json']);
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
    const again = await cli(['verify', '--url', server.info.url, ...verifyArgs()]);
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
    const r = await cli(['verify', '--threads', '1', '--json'], { cwd });
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
