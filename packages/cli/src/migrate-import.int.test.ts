// migrate and import against a real MongoDB-wire server (FerretDB locally and in CI): a real
// `civic-ledger start --demo` log is migrated into a fresh database, exported as a full
// bundle and imported into a fresh data dir and a fresh database, each as a real child
// process; the copies are then checked by the independent verifier. FerretDB reads are full
// scans, so the logs are small.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoStore } from '@civic-ledger/storage-mongodb';
// The driver itself only to list and drop the test databases.
import { MongoClient } from 'mongodb';
import { findService } from '@civic-ledger/test-services';
import { storeSource, verifyLog } from '@civic-ledger/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startCli, type Started } from './harness.ts';

const url = await findService('mongodb');

describe.skipIf(url === undefined)(
  'migrate and import with a real MongoDB-wire server',
  { timeout: 60_000 },
  () => {
    const root = mkdtempSync(join(tmpdir(), 'cli-migrate-'));
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    const databases: string[] = [];
    const database = (label: string) => {
      const name = `cli_${label}_${tag}`;
      databases.push(name);
      return name;
    };
    let server: Started;
    let admin: MongoClient;
    const bundle = join(root, 'bundle');

    beforeAll(async () => {
      admin = new MongoClient(url!);
      await admin.connect();
      // The log, and another one (another seed and size) to be refused as a target.
      const [s, o] = await Promise.all([
        startCli(['--demo', '--demo-size', '300', '--data-dir', join(root, 'data')]),
        startCli(['--demo', '--demo-size', '100', '--demo-seed', '7', '--data-dir', join(root, 'other')]),
      ]);
      server = s;
      await o.stop();
      // Reading entries needs a token: the demo's auditor token, as start printed it.
      const token = ['--token', server.info.tokens!.auditor];
      const r = await cli([
        'export',
        '--url',
        server.info.url,
        ...pin(),
        ...token,
        '--out',
        bundle,
        '--no-verify',
      ]);
      expect(r.code, r.stderr).toBe(0);
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      for (const d of databases) await admin?.db(d).dropDatabase();
      await admin?.close();
      rmSync(root, { recursive: true, force: true });
    });

    const pin = () => ['--log-key', server.info.logKey, '--origin', server.info.origin];
    const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
    // The database's collections, not listDatabases: FerretDB opens every database to size
    // it, which takes minutes once a server has held many test databases.
    const collectionsOf = async (db: string) =>
      (await admin.db(db).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);

    it('migrate copies a standalone log into MongoDB, equal in size and root, and the copy verifies there', async () => {
      const db = database('migrate');
      const r = await cli([
        'migrate',
        '--data-dir',
        join(root, 'data'),
        '--to',
        url!,
        '--database',
        db,
        ...pin(),
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const out = json(r.stdout);
      expect(out).toMatchObject({
        ok: true,
        verified: true,
        copied: 300,
        resumedFrom: 0,
        size: 300,
        sourceSize: 300,
      });
      expect(out['rootHash']).toMatch(/^[0-9a-f]{64}$/);
      expect(out['rootHash']).toBe(out['sourceRootHash']);
      expect(out['checkpoint']).toEqual({ size: 300, rootHash: out['rootHash'], signed: true });
      expect(out['target']).toBe(`MongoDB ${url} database ${db}`);

      const store = await MongoStore.connect(url!, db);
      try {
        const v = await verifyLog(storeSource(store), {
          logKey: server.info.logKey,
          origin: server.info.origin,
        });
        expect(v).toMatchObject({
          ok: true,
          size: 300,
          checkpoint: { size: 300, rootHash: out['rootHash'] },
        });
      } finally {
        await store.close();
      }

      // Run again: the target already holds the whole log, nothing to copy, still equal.
      const again = await cli([
        'migrate',
        '--data-dir',
        join(root, 'data'),
        '--to',
        url!,
        '--database',
        db,
        ...pin(),
      ]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(
        'OK: copied 0 entries (the target already held the first 300), 1 checkpoint, tree size 300',
      );
      expect(again.stdout).toContain('(equal to the source)');

      // Another log into the same database: refused, named without credentials, untouched.
      const refused = await cli([
        'migrate',
        '--data-dir',
        join(root, 'other'),
        '--to',
        url!,
        '--database',
        db,
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`MongoDB ${url} database ${db} holds another log`);
      const after = await MongoStore.connect(url!, db);
      try {
        expect((await after.head()).size).toBe(300);
      } finally {
        await after.close();
      }
    });

    it('migrate without --log-key copies but says the source was not verified', async () => {
      const db = database('unverified');
      const r = await cli(['migrate', '--data-dir', join(root, 'other'), '--to', url!, '--database', db]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /^OK: copied 100 entries, \d+ checkpoints?, tree size 100, root [0-9a-f]{64} \(equal to the source\)/,
      );
      expect(r.stdout).toContain('the source was NOT verified');
    });

    it('import puts a full bundle into a fresh data dir and a fresh database with the same root, and both verify', async () => {
      const dir = join(root, 'imported');
      const db = database('import');
      const [toDir, toDb] = await Promise.all([
        cli(['import', '--bundle', bundle, ...pin(), '--data-dir', dir, '--json']),
        cli(['import', '--bundle', bundle, ...pin(), '--to', url!, '--database', db, '--json']),
      ]);
      expect(toDir.code, toDir.stderr).toBe(0);
      expect(toDb.code, toDb.stderr).toBe(0);
      const a = json(toDir.stdout);
      const b = json(toDb.stdout);
      expect(a).toMatchObject({ ok: true, verified: true, copied: 300, size: 300 });
      expect(b).toMatchObject({ ok: true, verified: true, copied: 300, size: 300 });
      expect(a['rootHash']).toBe(b['rootHash']);
      expect(a['checkpoint']).toEqual({ size: 300, rootHash: a['rootHash'], signed: true });

      const v = await cli(['verify', '--data-dir', dir, ...pin(), '--no-save', '--json']);
      expect(v.code, v.stderr).toBe(0);
      expect(json(v.stdout)).toMatchObject({ ok: true, size: 300, treeSize: 300, rootHash: a['rootHash'] });

      // A data dir that already holds a log is refused before anything is read or written.
      const refused = await cli(['import', '--bundle', bundle, ...pin(), '--data-dir', dir]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('already holds a log of 300 entries');
    });

    it('a tampered bundle is refused (exit 1) and nothing is written to the target', async () => {
      // One leaf changed, and the manifest's digest fixed to match: only the log itself
      // (signatures, checkpoint roots) can tell.
      const bad = join(root, 'tampered');
      cpSync(bundle, bad, { recursive: true });
      const entries = join(bad, 'entries.jsonl');
      const text = readFileSync(entries, 'utf8');
      const changed = text.replace('\\"records\\":', '\\"records\\":1');
      expect(changed).not.toBe(text);
      writeFileSync(entries, changed);
      const manifest = JSON.parse(readFileSync(join(bad, 'bundle.json'), 'utf8'));
      manifest.files['entries.jsonl'] = {
        sha256: createHash('sha256').update(changed).digest('hex'),
        bytes: Buffer.byteLength(changed),
      };
      writeFileSync(join(bad, 'bundle.json'), JSON.stringify(manifest));

      const dir = join(root, 'not-imported');
      const db = database('tampered');
      const [toDir, toDb] = await Promise.all([
        cli(['import', '--bundle', bad, ...pin(), '--data-dir', dir, '--json']),
        cli(['import', '--bundle', bad, ...pin(), '--to', url!, '--database', db, '--json']),
      ]);
      for (const r of [toDir, toDb]) {
        expect(r.code, r.stderr).toBe(1);
        const out = json(r.stdout);
        // The changed event no longer matches its signature.
        expect(out).toMatchObject({ ok: false, stage: 'verify', check: 'BAD_SIGNATURE', copied: 0 });
        expect(out['index']).toEqual(expect.any(Number));
      }
      expect(existsSync(dir)).toBe(false);
      expect(await collectionsOf(db)).toEqual([]);
    });
  },
);
