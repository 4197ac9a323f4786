// keygen → register → emit → proof against a real `civic-ledger start --demo`, each
// command a real child process using the SDK (outbox in a temp state dir).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startCli, type Started } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'cli-emit-'));
const stateDir = join(root, 'state');
let server: Started;

beforeAll(async () => {
  server = await startCli(['--demo', '--demo-size', '100', '--data-dir', join(root, 'data')]);
}, 30_000);

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

const demoKey = (org: string) => join(server.info.dataDir, 'demo-keys', `${org}.key`);
const pin = () => ['--url', server.info.url, '--log-key', server.info.logKey];
// The demo's auditor token, as start printed it: proofs by hash and --inclusion read the entry.
const token = () => ['--token', server.info.tokens!.auditor];
const logArgs = () => [...pin(), '--state-dir', stateDir];
const D = 'd'.repeat(64);
const CAMERA = 'transport-agency/cameras/north-07';

describe('register, emit, proof', { timeout: 30_000 }, () => {
  let collectHash: string;

  it('a new key and a source are registered by their organization, then the key signs an event from flags', async () => {
    const keyFile = join(root, 'agency-k2.key');
    const gen = await cli(['keygen', '--name', 'transport-agency/cli-k2', '--out', keyFile]);
    expect(gen.code, gen.stderr).toBe(0);
    const reg = await cli([
      'register',
      'key-add',
      '--public-key',
      gen.stdout.trim(),
      '--key',
      demoKey('transport-agency'),
      ...logArgs(),
      '--output',
      'json',
    ]);
    expect(reg.code, reg.stderr).toBe(0);
    const added = JSON.parse(reg.stdout);
    expect(added).toMatchObject({
      ok: true,
      duplicate: false,
      event: { type: 'key', action: 'add', subjectKey: 'transport-agency/cli-k2', stream: 'registry' },
    });
    expect(added.receipt.index).toBe(100);

    // The camera it collects from is not one of the demo city's: the new key registers it.
    const source = await cli([
      'register',
      'source',
      '--id',
      CAMERA,
      '--name',
      'North camera 7',
      '--technology',
      'city:TrafficCamera',
      '--area',
      'North district',
      '--category',
      'city:VideoFootage',
      '--personal-data',
      'identified',
      '--key',
      keyFile,
      ...logArgs(),
      '--output',
      'json',
    ]);
    expect(source.code, source.stderr).toBe(0);
    expect(JSON.parse(source.stdout)).toMatchObject({
      ok: true,
      event: { type: 'register', subject: { kind: 'source', id: CAMERA }, key: 'transport-agency/cli-k2' },
      receipt: { index: 101 },
    });

    const emit = await cli([
      'emit',
      '--key',
      keyFile,
      ...logArgs(),
      '--output',
      'json',
      '--type',
      'collect',
      '--source',
      CAMERA,
      '--dataset',
      'transport-agency/traffic-video',
      '--dataset-version',
      `sha256:${'a'.repeat(64)}`,
      '--purpose',
      'city:TrafficManagement',
      '--declaration',
      D,
      '--category',
      'city:VideoFootage',
      '--personal-data',
      'identified',
      '--records',
      '12',
    ]);
    expect(emit.code, emit.stderr).toBe(0);
    const out = JSON.parse(emit.stdout);
    expect(out).toMatchObject({
      ok: true,
      event: {
        emitter: 'transport-agency',
        key: 'transport-agency/cli-k2',
        seq: 1,
        stream: 'main',
        records: 12,
      },
    });
    expect(out.receipt).toMatchObject({
      index: 102,
      eventHash: out.eventHash,
      logOrigin: server.info.origin,
    });
    collectHash = out.eventHash;
  });

  it('a field breaking its rule is a usage error naming the flag; nothing is sent', async () => {
    const r = await cli([
      'emit',
      '--key',
      demoKey('police'),
      ...logArgs(),
      '--type',
      'use',
      '--dataset',
      'transport-agency/traffic-video',
      '--dataset-version',
      'sha256:abc',
      '--input',
      'f'.repeat(64),
      '--purpose',
      'city:TrafficManagement',
      '--declaration',
      D,
      '--action',
      'city:Monitoring',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--dataset-version: digest');
  });

  it('a refusal by the ledger exits 3 with its code; the corrected event then gets the same seq', async () => {
    const body = (input: string, dataset = 'transport-agency/traffic-video') =>
      JSON.stringify({
        type: 'use',
        dataset: { id: dataset, version: `sha256:${'a'.repeat(64)}` },
        inputs: [input],
        purpose: 'city:TrafficManagement',
        declaration: D,
        action: 'city:Monitoring',
      });
    const args = [
      'emit',
      '--key',
      demoKey('police'),
      ...logArgs(),
      '--stream',
      'cli',
      '--json',
      '-',
      '--output',
      'json',
    ];
    const refused = await cli(args, { input: body('e'.repeat(64)) });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('UNKNOWN_INPUT');
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, error: { code: 'REFUSED' } });
    // A dataset nobody registered is refused the same way (422 UNKNOWN_SUBJECT).
    const unknown = await cli(args, { input: body(collectHash, 'transport-agency/traffic-unregistered') });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('UNKNOWN_SUBJECT');
    expect(unknown.stderr).toContain('transport-agency/traffic-unregistered');

    const ok = await cli([...args, '--inclusion', ...token()], { input: body(collectHash) });
    expect(ok.code, ok.stderr).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(out.event).toMatchObject({ emitter: 'police', stream: 'cli', seq: 1, inputs: [collectHash] });
    expect(out.inclusion).toMatchObject({ eventHash: out.eventHash, index: out.receipt.index });
  });

  it('proof verifies an inclusion proof with the pinned key, and fails (exit 1) with another', async () => {
    const r = await cli(['proof', ...pin(), ...token(), '--hash', collectHash, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p).toMatchObject({ ok: true, eventHash: collectHash, index: 102 });
    expect(p.treeSize).toBeGreaterThan(102);
    expect(p.checkpoint.startsWith(`${server.info.origin}\n${p.treeSize}\n`)).toBe(true);

    const otherKey = formatVerifierKey(generateSigningKey('other-log/k1'));
    const [wrongKey, missing] = await Promise.all([
      cli([
        'proof',
        '--url',
        server.info.url,
        '--log-key',
        otherKey,
        '--origin',
        server.info.origin,
        '--index',
        '5',
        ...token(),
      ]),
      cli(['proof', ...pin(), ...token(), '--hash', 'e'.repeat(64)]),
    ]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stdout).toContain('FAILED: CHECKPOINT_UNVERIFIED');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('not in the log');
  });
});
