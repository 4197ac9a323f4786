// `migrate --log-keys` against a real MongoDB-wire server: a standalone log whose key was
// rotated (A alone, the overlap A+B, then B alone) is verified with the windows and copied;
// pinned to A alone it does not verify and nothing is copied.
import { join } from 'node:path';
import { bootstrapEvents, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { findService } from '@civic-ledger/test-services';
// The driver itself only to look at and drop the test databases.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RotatingLedger } from './rotated-ledger.ts';

const url = await findService('mongodb');
const ORIGIN = 'ledger.cli-log-keys-migrate.example/log';

describe.skipIf(url === undefined)(
  'migrate --log-keys (real MongoDB-wire server)',
  { timeout: 60_000 },
  () => {
    const ledger = new RotatingLedger(ORIGIN, { CIVIC_LEDGER_ACCESS_CONTROL: 'off' });
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    const databases = [`cli_keys_ok_${tag}`, `cli_keys_a_${tag}`];
    let admin: MongoClient;
    let windows: string;

    beforeAll(async () => {
      admin = new MongoClient(url!);
      await admin.connect();
      const { operator } = ledger;
      await ledger.keyA(bootstrapEvents(operator, [new TestEmitter('transport-agency')]));
      await ledger.overlap([registerOrg(operator, 'board', 'oversight')]);
      const overlapSize = ledger.size;
      await ledger.keyB([registerOrg(operator, 'health', 'agency')]);
      windows = ledger.file('windows.json', [
        { key: ledger.A, untilSize: overlapSize },
        { key: ledger.B, fromSize: overlapSize },
      ]);
    }, 30_000);

    afterAll(async () => {
      for (const d of databases) await admin?.db(d).dropDatabase();
      await admin?.close();
      await ledger.close();
    });

    const migrate = (database: string, ...pin: string[]) =>
      ledger.cli([
        ...['migrate', '--data-dir', join(ledger.root, 'data'), '--to', url!, '--database', database],
        ...['--origin', ORIGIN, '--json', ...pin],
      ]);

    it('verifies the rotated log with the windows and copies it; A alone copies nothing', async () => {
      const ok = await migrate(databases[0]!, '--log-keys', windows);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({
        ok: true,
        verified: true,
        size: ledger.size,
        checkpoint: { size: ledger.size, signed: true },
      });

      const onlyA = await migrate(databases[1]!, '--log-key', ledger.A);
      expect(onlyA.code).toBe(1);
      expect(JSON.parse(onlyA.stdout)).toMatchObject({
        ok: false,
        stage: 'verify',
        check: 'CHECKPOINT_SIGNATURE',
        copied: 0,
      });
      expect(await admin.db(databases[1]!).listCollections({}, { nameOnly: true }).toArray()).toEqual([]);
    });
  },
);
