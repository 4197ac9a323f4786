// `--log-keys` on the commands that trust the log through the SDK or open its checkpoints
// (proof, register and emit, lineage, import; migrate's verification is verify's and
// import's, its usage is checked here), against a real standalone service whose log key was
// rotated (A alone, the overlap A+B, then B alone): each works with the windows, fails with
// the old key alone or a window that leaves the current size to it, and refuses both flags
// or a wrong file (exit 2). In process, through the real dispatcher (runCli); the spawned
// executable is tested with the same kind of ledger by rotation.test.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeSigningKeyFile } from '@civic-ledger/crypto';
import { bootstrapEvents, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RotatingLedger } from './rotated-ledger.ts';

const ORIGIN = 'ledger.cli-log-keys-commands.example/log';
// Read tokens are tested elsewhere (token.test.ts); here the rotation is.
const ledger = new RotatingLedger(ORIGIN, { CIVIC_LEDGER_ACCESS_CONTROL: 'off' });
const { operator, root } = ledger;
let aloneSize: number;
/** The size of the last checkpoint signed before the tests (B alone). */
let signedSize: number;
/** [A until the overlap], [B from the overlap]: the windows an operator publishes after it. */
let windows: string;
/** B's window ends before the current size: only A may sign it, and A no longer does. */
let stale: string;
const operatorKey = join(root, 'operator.key');
const agency = new TestEmitter('transport-agency');
const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';

const cli = (args: readonly string[]) => ledger.cli(args);

beforeAll(async () => {
  await ledger.keyA(
    bootstrapEvents(operator, [agency], {}, [
      { kind: 'source', id: SOURCE },
      { kind: 'dataset', id: DATASET },
    ]),
  );
  aloneSize = ledger.size;
  await ledger.overlap([registerOrg(operator, 'board', 'oversight')]);
  const overlapSize = ledger.size;
  // A movement for the lineage trace, signed in while B signs alone.
  await ledger.keyB([
    agency.next({
      type: 'collect',
      source: SOURCE,
      dataset: { id: DATASET, version: `sha256:${'a'.repeat(64)}` },
      inputs: [],
      purpose: 'city:TrafficManagement',
      declaration: 'd'.repeat(64),
      categories: ['city:VehicleCount'],
      personalData: 'none',
      records: 1000,
    } as never),
  ]);
  signedSize = ledger.size;
  windows = ledger.file('windows.json', [
    { key: ledger.A, untilSize: overlapSize },
    { key: ledger.B, fromSize: overlapSize },
  ]);
  stale = ledger.file('stale.json', [{ key: ledger.A }, { key: ledger.B, untilSize: aloneSize }]);
  writeSigningKeyFile(operatorKey, operator.key);
}, 30_000);

afterAll(() => ledger.close());

const proof = (...args: string[]) =>
  cli(['proof', '--url', ledger.url, '--origin', ORIGIN, '--index', '1', '--json', ...args]);

describe('--log-keys on proof, register/emit and lineage', { timeout: 60_000 }, () => {
  it('proof: proven with the windows; A alone or a stale window is not proven (exit 1)', async () => {
    const [ok, onlyA, staleWindow] = await Promise.all([
      proof('--log-keys', windows),
      proof('--log-key', ledger.A),
      proof('--log-keys', stale),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, index: 1, treeSize: ledger.size });
    for (const r of [onlyA, staleWindow]) {
      expect(r.code, r.stderr).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'CHECKPOINT_UNVERIFIED' } });
    }
  });

  it('register (the SDK path emit shares): the receipt checked with the key valid at its index', async () => {
    const register = (id: string, ...pin: string[]) =>
      cli([
        'register',
        'organization',
        ...['--id', id, '--name', `Org ${id}`, '--role', 'agency', '--jurisdiction', 'NL'],
        ...['--url', ledger.url, '--origin', ORIGIN, '--key', operatorKey],
        ...['--state-dir', join(root, 'state'), '--output', 'json'],
        ...pin,
      ]);
    const ok = await register('transit', '--log-keys', windows);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, receipt: { index: ledger.size - 1 } });
    // The receipt is B's: pinning A alone, it does not verify (the event is in the log all the same).
    const onlyA = await register('parks', '--log-key', ledger.A);
    expect(onlyA.code, onlyA.stdout).toBe(1);
  });

  it('lineage: the answer checkpoint opened with the key valid at its size', async () => {
    // As of the last signed checkpoint: the register test adds entries none covers yet.
    const upstream = (...pin: string[]) =>
      cli([
        ...['lineage', 'upstream', '--url', ledger.url, '--origin', ORIGIN, '--dataset', DATASET],
        ...['--as-of', String(signedSize), ...pin],
      ]);
    const [ok, staleWindow] = await Promise.all([
      upstream('--log-keys', windows),
      upstream('--log-keys', stale),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`checkpoint: size ${signedSize} signed by the pinned log key`);
    expect(staleWindow.code).toBe(1);
    expect(staleWindow.stderr).toContain('does not verify with the pinned log key');
  });

  it('import: a bundle exported with the windows imported with them; B alone refuses it, writing nothing', async () => {
    const bundle = join(root, 'bundle');
    const exported = await cli([
      'export',
      '--url',
      ledger.url,
      '--log-keys',
      windows,
      '--out',
      bundle,
      '--json',
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const imported = (dir: string, ...pin: string[]) =>
      cli([
        'import',
        '--bundle',
        bundle,
        '--origin',
        ORIGIN,
        '--data-dir',
        join(root, dir),
        '--json',
        ...pin,
      ]);
    const ok = await imported('imported', '--log-keys', windows);
    expect(ok.code, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, verified: true, checkpoint: { signed: true } });
    // Its checkpoints before the overlap are A's alone.
    const onlyB = await imported('refused', '--log-key', ledger.B);
    expect(onlyB.code).toBe(1);
    expect(JSON.parse(onlyB.stdout)).toMatchObject({
      ok: false,
      stage: 'verify',
      check: 'CHECKPOINT_SIGNATURE',
    });
    expect(existsSync(join(root, 'refused', 'ledger.db'))).toBe(false);
  });

  it('usage errors (exit 2): both flags, a file naming the wrong member; --help documents the flag', async () => {
    // Each with what it checks before the key (proof: the entry; emit: the event).
    const body = ledger.file('body.json', { type: 'use', dataset: { id: DATASET } });
    const url = ['--url', ledger.url];
    const commands = [
      ['proof', ...url, '--index', '1'],
      ['register', 'organization', ...url],
      ['emit', ...url, '--json', body],
      ['lineage', 'upstream', ...url],
      ['import', '--bundle', root, '--data-dir', join(root, 'never')],
      ['migrate', '--data-dir', root, '--to', 'mongodb://127.0.0.1:1/'],
    ];
    for (const command of commands) {
      const r = await cli([...command, '--log-key', ledger.A, '--log-keys', windows]);
      expect(r.code, `${command}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('--log-key and --log-keys: give one of the two, not both');
    }
    const bad = ledger.file('bad.json', [{ key: ledger.A }, { key: ledger.B, fromSize: -1 }]);
    const r = await proof('--log-keys', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--log-keys: .*bad\.json: \[1\]\.fromSize: an integer >= 0/);
    for (const command of ['proof', 'register', 'emit', 'lineage', 'import', 'migrate']) {
      const help = await cli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('--log-key <key> | --log-keys <file>');
      expect(help.stdout).toContain('--log-keys <file>       instead of --log-key');
    }
  });
});
