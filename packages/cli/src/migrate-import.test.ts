// The copy behind migrate and import (copy-log.ts) on SQLite stores, from real
// `civic-ledger start --demo` logs: resuming, refusing another log, a leaf that cannot be
// replayed, the pinned key; and the commands' usage errors (the MongoDB paths are in
// migrate-import.int.test.ts).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '@civic-ledger/crypto';
import { SqliteStore } from '@civic-ledger/storage';
import { storeSource, verifyLog } from '@civic-ledger/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyLog, type CopySource } from './commands/copy-log.ts';
import { CliError } from './errors.ts';
import { cli, startCli, type Started } from './harness.ts';
import { sqliteSource, type ClosableSource } from './sqlite-source.ts';

const root = mkdtempSync(join(tmpdir(), 'cli-copy-'));
let server: Started;
let otherInfo: Started['info'];
const sources: ClosableSource[] = [];
const stores: SqliteStore[] = [];

beforeAll(async () => {
  const [s, o] = await Promise.all([
    startCli(['--demo', '--demo-size', '150', '--data-dir', join(root, 'data')]),
    startCli(['--demo', '--demo-size', '100', '--demo-seed', '7', '--data-dir', join(root, 'other')]),
  ]);
  server = s;
  otherInfo = o.info;
  await o.stop();
}, 30_000);

afterAll(async () => {
  for (const s of sources) s.close();
  for (const s of stores) await s.close();
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

const open = (dir: string) => {
  const s = sqliteSource(join(root, dir));
  sources.push(s);
  return s;
};
const target = (name: string) => {
  const s = new SqliteStore({ path: join(root, 'targets', `${name}.db`) });
  stores.push(s);
  return s;
};
/** The first n entries of a log, as a copy interrupted there would have seen it. */
const prefix = (s: CopySource, n: number): CopySource => ({
  size: async () => n,
  leaves: (from, to) => s.leaves(from, Math.min(to, n)),
  checkpoints: async () => [],
});
const options = (label: string) => ({
  owner: 'test',
  target: label,
  logKey: server.info.logKey,
  origin: server.info.origin,
});

describe('copyLog', { timeout: 30_000 }, () => {
  it('resumes an interrupted copy: a target holding the first entries of the log gets the rest', async () => {
    const t = target('resume');
    const first = await copyLog(prefix(open('data'), 100), t, options('t'));
    expect(first).toMatchObject({ ok: true, copied: 100, resumedFrom: 0, size: 100, checkpoint: null });

    const rest = await copyLog(open('data'), t, options('t'));
    expect(rest).toMatchObject({ ok: true, copied: 50, resumedFrom: 100, size: 150, checkpoints: 1 });
    expect(rest.rootHash).toBe(rest.sourceRootHash);
    expect(rest.checkpoint).toEqual({ size: 150, rootHash: rest.rootHash, signed: true });
    const v = await verifyLog(storeSource(t), { logKey: server.info.logKey, origin: server.info.origin });
    expect(v).toMatchObject({ ok: true, size: 150, checkpoint: { size: 150, rootHash: rest.rootHash } });
  });

  it('refuses a target holding another log (exit 2) and leaves it as it was', async () => {
    const t = target('other');
    const copied = await copyLog(open('other'), t, {
      owner: 'test',
      target: 't',
      logKey: otherInfo.logKey,
      origin: otherInfo.origin,
    });
    expect(copied).toMatchObject({ ok: true, size: 100 });
    const before = await t.head();

    const refused = await copyLog(open('data'), t, options('the other target')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CliError);
    expect((refused as CliError).exitCode).toBe(2);
    expect((refused as CliError).message).toContain('the other target holds another log');
    const after = await t.head();
    expect(after.size).toBe(100);
    expect(toHex(after.rootHash)).toBe(toHex(before.rootHash));
    expect(after.epoch).toBe(before.epoch);

    // Holding more entries than the source is another log too.
    const shorter = await copyLog(prefix(open('other'), 50), t, options('t')).catch((e: unknown) => e);
    expect((shorter as CliError).exitCode).toBe(2);
  });

  it('reports a source leaf that cannot be replayed as CORRUPT at its index; the mended source resumes', async () => {
    const good = open('data');
    const bad: CopySource = {
      ...good,
      leaves: async (from, to) =>
        (await good.leaves(from, to)).map((l) =>
          l.index === 42 ? { leaf: new Uint8Array([...l.leaf, 0x20]), index: 42 } : l,
        ),
    };
    const t = target('corrupt');
    const r = await copyLog(bad, t, { ...options('t'), chunk: 20 });
    expect(r).toMatchObject({ ok: false, check: 'CORRUPT', index: 42 });
    expect(r.message).toContain('source leaf 42 cannot be replayed');
    // Whole chunks before it were written; the rest resumes from there.
    expect((await t.head()).size).toBe(40);
    const again = await copyLog(open('data'), t, options('t'));
    expect(again).toMatchObject({ ok: true, resumedFrom: 40, copied: 110, size: 150 });
  });

  it('refuses, before writing, a log whose latest checkpoint does not open with the pinned key', async () => {
    const t = target('key');
    const r = await copyLog(open('data'), t, { ...options('t'), logKey: otherInfo.logKey });
    expect(r).toMatchObject({ ok: false, check: 'CHECKPOINT_SIGNATURE', index: 150, copied: 0 });
    expect((await t.head()).size).toBe(0);
  });
});

describe('migrate and import: usage errors exit 2', { timeout: 30_000 }, () => {
  const pin = () => ['--log-key', server.info.logKey];

  it('a --to that is not a MongoDB URL is named without echoing it (it may hold a password)', async () => {
    const r = await cli([
      'migrate',
      '--data-dir',
      join(root, 'data'),
      '--to',
      'http://alice:s3cret@db.example/',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--to: a mongodb:// or mongodb+srv:// URL');
    expect(r.stderr).not.toContain('s3cret');
  });

  it('no target, two targets, or a data dir without a log', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    const env = { CIVIC_LEDGER_MONGODB_URL: undefined };
    const [noTo, both, noLog] = await Promise.all([
      cli(['migrate', '--data-dir', join(root, 'data')], { env }),
      cli(['import', '--bundle', root, ...pin(), '--data-dir', empty, '--to', 'mongodb://127.0.0.1:1/'], {
        env,
      }),
      cli(['migrate', '--data-dir', empty, '--to', 'mongodb://127.0.0.1:1/']),
    ]);
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toContain('--to: required');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--data-dir and --to: give one target');
    expect(noLog.code).toBe(2);
    expect(noLog.stderr).toContain('holds no ledger');
  });

  it('a partial bundle is not a whole log', async () => {
    const dir = join(root, 'partial');
    const e = await cli([
      'export',
      '--url',
      server.info.url,
      ...pin(),
      '--token',
      server.info.tokens!.auditor,
      '--out',
      dir,
      '--indexes',
      '7',
      '--no-verify',
    ]);
    expect(e.code, e.stderr).toBe(0);
    const into = join(root, 'from-partial');
    const r = await cli(['import', '--bundle', dir, ...pin(), '--data-dir', into]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a partial bundle holds chosen events');
  });
});
