// A real standalone service whose log key is rotated mid-test (key A; the overlap A+B with
// CIVIC_LEDGER_NEXT_LOG_KEY_FILE; then B alone), restarted on the same port: `monitor
// --log-keys` follows it without an alert while a monitor pinning only A reports the first
// checkpoint B alone signed; `export --log-keys` writes a bundle that `verify --bundle
// --log-keys` accepts and one key alone does not.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { genesisEvent, registerOrg } from '@civic-ledger/ledger-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './harness.ts';
import { RotatingLedger } from './rotated-ledger.ts';

const ORIGIN = 'ledger.cli-rotation.example/log';
// Read tokens are tested elsewhere (token.test.ts); here the rotation is.
const ledger = new RotatingLedger(ORIGIN, { CIVIC_LEDGER_ACCESS_CONTROL: 'off' });
const { operator, root } = ledger;

const alertsOf = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { code: string; message: string });

beforeAll(async () => {
  await ledger.keyA([genesisEvent(operator), registerOrg(operator, 'police', 'agency')]);
}, 30_000);

afterAll(() => ledger.close());

describe('a log key rotation through the CLI', { timeout: 60_000 }, () => {
  it('monitor --log-keys follows it without an alert; --log-key A reports the new key clearly', async () => {
    const { A, B, url } = ledger;
    const aloneSize = ledger.size;
    // Published with the overlap: A open-ended, B from the overlap's first checkpoint.
    const during = ledger.file('during.json', [{ key: A }, { key: B, fromSize: aloneSize + 1 }]);
    const following = ['monitor', '--once', '--ledger', url, '--origin', ORIGIN, '--no-watch'];
    const withKeys = () => cli([...following, '--log-keys', during, '--state', join(root, 'keys.json')]);
    const withA = () => cli([...following, '--log-key', A, '--state', join(root, 'a.json')]);
    for (const r of await Promise.all([withKeys(), withA()]))
      expect(r, r.stderr).toMatchObject({ code: 0, stdout: '' });

    await ledger.overlap([registerOrg(operator, 'board', 'oversight')]);
    for (const r of await Promise.all([withKeys(), withA()]))
      expect(r, r.stderr).toMatchObject({ code: 0, stdout: '' });

    await ledger.keyB([registerOrg(operator, 'health', 'agency')]);
    const [ok, stale] = await Promise.all([withKeys(), withA()]);
    expect(ok, ok.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(ok.stderr).toContain(`tree size ${ledger.size}`);
    // The state file records the keys the monitor trusted.
    expect(JSON.parse(readFileSync(join(root, 'keys.json'), 'utf8'))).toMatchObject({
      logKey: B,
      logKeys: [{ key: A }, { key: B, fromSize: aloneSize + 1 }],
    });
    // Pinning only A: exit 1 with one alert that names the other key and what to do, no crash.
    expect(stale.code, stale.stderr).toBe(1);
    const alerts = alertsOf(stale.stdout);
    expect(alerts.map((a) => a.code)).toEqual(['CHECKPOINT_INVALID']);
    expect(alerts[0]!.message).toContain(`another key named ${ORIGIN} (key id ${B.split('+')[1]})`);
    expect(alerts[0]!.message).toContain('if the log key was rotated, pin the new key');
    expect(stale.stderr).not.toMatch(/at .*\.ts:\d+/);

    // Told about the rotation, the monitor pinning A goes on from its state, saying the keys changed.
    const told = await cli([...following, '--log-keys', during, '--state', join(root, 'a.json')]);
    expect(told, told.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(told.stderr).toContain(`was written trusting ${A}; now pinned: ${A}, ${B}`);
  });

  it('export --log-keys writes a bundle that verify --bundle --log-keys accepts; one key alone does not', async () => {
    const { A, B, url } = ledger;
    const overlapSize = ledger.size - 1;
    const windows = ledger.file('final.json', [
      { key: A, untilSize: overlapSize },
      { key: B, fromSize: overlapSize },
    ]);
    const out = join(root, 'bundle');
    const exported = await cli(['export', '--url', url, '--log-keys', windows, '--out', out, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ ok: true, kind: 'full', verified: true });
    expect(JSON.parse(readFileSync(join(out, 'bundle.json'), 'utf8'))).toMatchObject({ logKey: B });

    const bundle = (...pin: string[]) =>
      cli([
        'verify',
        '--bundle',
        out,
        '--origin',
        ORIGIN,
        '--state-dir',
        join(root, 'state'),
        '--json',
        ...pin,
      ]);
    const [good, onlyB] = await Promise.all([bundle('--log-keys', windows), bundle('--log-key', B)]);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, bundle: 'full', size: overlapSize + 1 });
    expect(onlyB.code).toBe(1);
    expect(JSON.parse(onlyB.stdout)).toMatchObject({ ok: false, check: 'CHECKPOINT_SIGNATURE' });

    // Exporting a rotated log pinning one key: written, but it does not verify (exit 1).
    const single = await cli(['export', '--url', url, '--log-key', B, '--out', join(root, 'single')]);
    expect(single.code).toBe(1);
    expect(single.stdout).toContain('FAILED: the bundle does not verify: CHECKPOINT_SIGNATURE');
  });
});
