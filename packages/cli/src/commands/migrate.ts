// migrate: moves a standalone log (a data dir's ledger.db) into MongoDB for distributed mode,
// leaf bytes and checkpoint notes unchanged, and proves the copy equal by size and root (see
// copy-log.ts). With the pinned log key (or a rotated log's keys with their windows) the
// source is verified first, in the same read-only snapshot that is then copied.
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { intFlag, nonEmpty, verifierKeyFlag } from '../args.ts';
import { defineCommand } from '../command.ts';
import { loadConfigFile, resolveOrigin } from '../config.ts';
import { CliError, describe } from '../errors.ts';
import { progressBar, type Io } from '../io.ts';
import {
  LOG_KEYS_HELP,
  LOG_KEYS_OPTIONS,
  logKeysFlagSchema,
  optionalPinnedKeys,
  pinOf,
} from '../log-keys.ts';
import { jsonSchema } from './common.ts';

const HELP = `Usage: civic-ledger migrate --data-dir <dir> --to <mongodb url> --database <name> (--log-key <key> | --log-keys <file>) [flags]

Copies a standalone log (<dir>/ledger.db, opened read-only) into MongoDB, where the
distributed services (sequencer, query) use it: every entry with its exact leaf bytes, every
signed checkpoint note unchanged, the tree nodes and lookups rebuilt from the leaves. Then
proves the copy: the same tree size and root as the source, and the target's stored tree
gives the latest checkpoint's root.

With --log-key or --log-keys (recommended) the source is first verified like 'civic-ledger verify
--data-dir' (signatures, chains, checkpoints); a log that does not verify is not copied.
Without it the copy is made byte for byte and the output says the source was not verified.

The target database must be empty, or hold the first entries of this same log (a migration
that was interrupted: it resumes). A database holding anything else is refused and not
touched. Stop the standalone service first for the final copy; run again to copy what it
appended since (it resumes). The copy holds the target's writer lease; a running sequencer
on it is refused.

Flags:
  --data-dir <dir>        the standalone data directory (required)
  --to <mongodb url>      the MongoDB server (default $CIVIC_LEDGER_MONGODB_URL, which keeps
                          a password off the command line); never printed with credentials
  --database <name>       the database (default $CIVIC_LEDGER_MONGODB_DATABASE, else
                          civic_ledger, as the services use)
  --log-key <key>         the log's verifier key text, pinned: verify the source first
${LOG_KEYS_HELP}
  --origin <origin>       the log's origin line (default: the log key's name)
  --config <file>         config file (default ./civic-ledger.json when present): logKey, origin
  --chunk <n>             entries per write (default 1000)
  --json                  print one JSON object: { ok, source, target, verified, stage, check,
                          index, eventHash, message, copied, resumedFrom, checkpoints, size,
                          rootHash, sourceSize, sourceRootHash, checkpoint, elapsedMs }

Output: "OK: copied N entries, K checkpoints, tree size S, root <hex> (equal to the source)",
or "FAILED ...: <CHECK> — <message>". A progress bar is drawn on stderr when it is a terminal.

Exit codes: 0 copied and equal, 1 the source does not verify or the copy differs from it,
2 usage (bad flag, the target holds another log), 3 could not run (server unreachable,
unreadable data dir, another writer holds the target).
`;

/** A MongoDB connection string (checked without echoing it: it may hold a password). */
export const mongoUrlFlag = z
  .string()
  .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'a mongodb:// or mongodb+srv:// URL');

/** A database name both MongoDB and FerretDB accept. */
export const databaseFlag = z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, '1 to 63 of A-Z a-z 0-9 _ -');

export const chunkFlag = intFlag(1, 10_000).default(1000);

/** The target URL: the flag, else $CIVIC_LEDGER_MONGODB_URL (checked alike), else undefined. */
export function targetUrl(flag: string | undefined, io: Io): string | undefined {
  if (flag !== undefined) return flag;
  const env = io.env['CIVIC_LEDGER_MONGODB_URL'];
  if (env === undefined || env === '') return undefined;
  if (!mongoUrlFlag.safeParse(env).success) {
    throw new CliError('USAGE', '$CIVIC_LEDGER_MONGODB_URL: a mongodb:// or mongodb+srv:// URL');
  }
  return env;
}

/** The database: the flag, else $CIVIC_LEDGER_MONGODB_DATABASE, else civic_ledger. */
export function targetDatabase(flag: string | undefined, io: Io): string {
  if (flag !== undefined) return flag;
  const env = io.env['CIVIC_LEDGER_MONGODB_DATABASE'];
  if (env === undefined || env === '') return 'civic_ledger';
  if (!databaseFlag.safeParse(env).success) {
    throw new CliError('USAGE', '$CIVIC_LEDGER_MONGODB_DATABASE: 1 to 63 of A-Z a-z 0-9 _ -');
  }
  return env;
}

/** Opens the MongoDB target; opening errors name the server without credentials. */
export async function openMongoTarget(url: string, database: string) {
  const { MongoStore, MongoStoreError, describeUrl } = await import('@civic-ledger/storage-mongodb');
  const label = `MongoDB ${describeUrl(url)} database ${database}`;
  try {
    return { store: await MongoStore.connect(url, database), label };
  } catch (e) {
    if (e instanceof MongoStoreError && e.code === 'BAD_OPTIONS') {
      throw new CliError('USAGE', `--to: ${e.message}`, { cause: e });
    }
    throw new CliError('SERVER_ERROR', describe(e), { cause: e });
  }
}

const schema = z.object({
  'data-dir': nonEmpty,
  to: mongoUrlFlag.optional(),
  database: databaseFlag.optional(),
  'log-key': verifierKeyFlag.optional(),
  ...logKeysFlagSchema,
  origin: nonEmpty.optional(),
  config: nonEmpty.optional(),
  chunk: chunkFlag,
  json: jsonSchema,
});
type Values = z.output<typeof schema>;

/** When each checkpoint of the data dir was signed (read-only; empty when unreadable). */
async function checkpointTimes(dir: string): Promise<Map<number, number>> {
  const { DatabaseSync } = await import('node:sqlite');
  const times = new Map<number, number>();
  try {
    const db = new DatabaseSync(join(dir, 'ledger.db'), { readOnly: true });
    try {
      for (const r of db.prepare('SELECT size, created FROM checkpoints').all() as {
        size: number;
        created: number;
      }[]) {
        times.set(Number(r.size), Number(r.created));
      }
    } finally {
      db.close();
    }
  } catch {
    // Times are bookkeeping, not evidence: the admission time of the last entry stands in.
  }
  return times;
}

async function runMigrate(v: Values, io: Io): Promise<number> {
  const { config } = loadConfigFile(io, v.config);
  // With --log-keys (a rotated log) the last key stands for the log: the default origin.
  const pinned = await optionalPinnedKeys(io, v, config);
  const origin = pinned === undefined ? undefined : resolveOrigin(v.origin, config, pinned.logKey);
  const url = targetUrl(v.to, io);
  if (url === undefined) throw new CliError('USAGE', '--to: required (or $CIVIC_LEDGER_MONGODB_URL)');
  const database = targetDatabase(v.database, io);
  const dir = resolve(io.cwd, v['data-dir']);

  const [{ sqliteSource }, { copyLog, copyOwner, printCopy }] = await Promise.all([
    import('../sqlite-source.ts'),
    import('./copy-log.ts'),
  ]);
  const source = sqliteSource(dir);
  const label = `data dir ${dir}`;
  try {
    if (pinned !== undefined && origin !== undefined) {
      const { verifyLog } = await import('@civic-ledger/verifier');
      const progress = progressBar(io, 'verifying', 'entries');
      let result;
      try {
        result = await verifyLog(source, {
          ...pinOf(pinned),
          origin,
          onProgress: (d, t) => progress.update(d, t),
        });
      } catch (e) {
        throw new CliError('IO_ERROR', `could not read the log from ${label}: ${describe(e)}`, { cause: e });
      } finally {
        progress.done();
      }
      if (!result.ok) {
        const { describeUrl } = await import('@civic-ledger/storage-mongodb');
        return printCopy(io, v.json, {
          ok: false,
          source: label,
          target: `MongoDB ${describeUrl(url)} database ${database}`,
          verified: false,
          stage: 'verify',
          check: result.check,
          index: result.index,
          eventHash: result.eventHash ?? null,
          message: result.message,
          copied: 0,
          resumedFrom: 0,
          checkpoints: 0,
          size: 0,
          rootHash: null,
          sourceSize: await source.size(),
          sourceRootHash: null,
          checkpoint: null,
          elapsedMs: 0,
        });
      }
    }
    const times = await checkpointTimes(dir);
    const target = await openMongoTarget(url, database);
    const progress = progressBar(io, 'copying', 'entries');
    try {
      const report = await copyLog({ ...source, checkpointTimes: async () => times }, target.store, {
        owner: copyOwner('migrate'),
        target: target.label,
        logKey: pinned?.logKey,
        logKeys: pinned?.logKeys,
        origin,
        chunk: v.chunk,
        onProgress: (d, t) => progress.update(d, t),
      });
      return printCopy(io, v.json, {
        ...report,
        source: label,
        target: target.label,
        verified: pinned !== undefined,
        stage: report.ok ? null : 'copy',
        eventHash: null,
      });
    } finally {
      progress.done();
      await target.store.close();
    }
  } finally {
    source.close();
  }
}

export const command = defineCommand({
  spec: {
    name: 'migrate',
    summary: 'copy a standalone log into MongoDB and prove the copy equal',
    help: HELP,
    options: {
      'data-dir': { type: 'string' },
      to: { type: 'string' },
      database: { type: 'string' },
      'log-key': { type: 'string' },
      ...LOG_KEYS_OPTIONS,
      origin: { type: 'string' },
      config: { type: 'string' },
      chunk: { type: 'string' },
      json: { type: 'boolean' },
    },
    schema,
  },
  run: runMigrate,
});
