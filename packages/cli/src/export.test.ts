// export (full and partial evidence bundles) from a real `civic-ledger start --demo`, and
// `verify --bundle` offline, each as a real child process.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startCli, type Started } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'cli-export-'));
let server: Started;

beforeAll(async () => {
  server = await startCli(['--demo', '--demo-size', '150', '--data-dir', join(root, 'data')]);
}, 30_000);

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

const pin = () => ['--log-key', server.info.logKey, '--origin', server.info.origin];
// The demo's auditor token, as start printed it: export reads entries (auditor scope).
const token = () => ['--token', server.info.tokens!.auditor];

describe('export and verify --bundle', { timeout: 30_000 }, () => {
  it('a full bundle verifies offline; a changed byte in it fails with the check named (exit 1)', async () => {
    const dir = join(root, 'full');
    const r = await cli(['export', '--url', server.info.url, ...pin(), ...token(), '--out', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      kind: 'full',
      entries: 150,
      treeSize: 150,
      verified: true,
    });

    const v = await cli(['verify', '--bundle', dir, ...pin(), '--state-dir', join(root, 'state'), '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({
      ok: true,
      bundle: 'full',
      size: 150,
      treeSize: 150,
      stateSaved: true,
    });

    const entries = join(dir, 'entries.jsonl');
    const text = readFileSync(entries, 'utf8');
    // Leaves are JSON strings inside each line: their quotes are escaped.
    const changed = text.replace('\\"records\\":', '\\"records\\":1');
    expect(changed).not.toBe(text);
    writeFileSync(entries, changed);
    const bad = await cli(['verify', '--bundle', dir, ...pin(), '--no-save', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, check: 'FILE_HASH', file: 'entries.jsonl' });
  });

  it('a partial bundle of chosen events proves each against one checkpoint', async () => {
    const dir = join(root, 'partial');
    const r = await cli([
      'export',
      '--url',
      server.info.url,
      ...pin(),
      ...token(),
      '--out',
      dir,
      '--indexes',
      '120,140',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, kind: 'partial', verified: true });

    const v = await cli(['verify', '--bundle', dir, ...pin(), '--no-save', '--json']);
    expect(v.code, v.stderr).toBe(0);
    const report = JSON.parse(v.stdout);
    expect(report).toMatchObject({ ok: true, bundle: 'partial', treeSize: 150 });
    expect(report.chosen.map((c: { index: number }) => c.index)).toEqual([120, 140]);

    const again = await cli([
      'export',
      '--url',
      server.info.url,
      ...pin(),
      ...token(),
      '--out',
      dir,
      '--indexes',
      '3',
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--out: ');
  });
});
