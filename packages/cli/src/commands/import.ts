// import: makes a running log again out of a full evidence bundle: verified offline with the
// pinned key (or, for a rotated log, keys with windows) first (as 'verify --bundle'), then
// copied into a standalone data dir or MongoDB with leaf bytes and checkpoint notes unchanged,
// and proven equal by size and root against the bundle's latest signed checkpoint (see
// copy-log.ts). Nothing is written to the target
// unless the bundle verifies.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LedgerStore } from '@civic-ledger/storage';
import { z } from 'zod';
import { nonEmpty } from '../args.ts';
import { defineCommand } from '../command.ts';
import { loadConfigFile, resolveOrigin } from '../config.ts';
import { CliError } from '../errors.ts';
import { progressBar, type Io } from '../io.ts';
import { LOG_KEYS_HELP, LOG_KEYS_OPTIONS, logKeysFlagSchema, pinnedKeys } from '../log-keys.ts';
import { LOG_OPTIONS, jsonSchema, logSchema } from './common.ts';
import type { CopyOutput, CopyReport } from './copy-log.ts';
import {
  chunkFlag,
  databaseFlag,
  mongoUrlFlag,
  openMongoTarget,
  targetDatabase,
  targetUrl,
} from './migrate.ts';

const HELP = `Usage: civic-ledger import --bundle <dir> (--log-key <key> | --log-keys <file>) (--data-dir <dir> | --to <mongodb url> [--database <name>]) [flags]

Imports a full evidence bundle (written by 'civic-ledger export') into a ledger store:
first verifies it offline with the pinned log key exactly as 'civic-ledger verify --bundle'
does (a bundle that does not verify is not imported, and nothing is written), then copies
every entry with its exact leaf bytes and every signed checkpoint note unchanged, rebuilds
the tree nodes and lookups from the leaves, and proves the copy: the same tree size and root
as the bundle, and the target's stored tree gives its latest signed checkpoint's root.

Where to (exactly one):
  --data-dir <dir>        a standalone data directory (created): <dir>/ledger.db. A
                          directory whose ledger.db already holds entries is refused. The
                          file is written aside and moved into place only when complete.
  --to <mongodb url>      a MongoDB server (default $CIVIC_LEDGER_MONGODB_URL, which keeps a
                          password off the command line); never printed with credentials.
                          The database must be empty or hold the first entries of this same
                          log (an interrupted import: it resumes); anything else is refused.
  --database <name>       with --to (default $CIVIC_LEDGER_MONGODB_DATABASE, else civic_ledger)

Flags:
  --bundle <dir>          the full evidence bundle (required)
  --log-key <key>         the log's verifier key text, pinned (required): get it from the
                          operator out of band; the bundle's own manifest is not trusted
${LOG_KEYS_HELP}
  --origin <origin>       the log's origin line (default: the log key's name)
  --config <file>         config file (default ./civic-ledger.json when present): logKey, origin
  --chunk <n>             entries per write (default 1000)
  --json                  print one JSON object: { ok, source, target, verified, stage, check,
                          index, eventHash, message, copied, resumedFrom, checkpoints, size,
                          rootHash, sourceSize, sourceRootHash, checkpoint, elapsedMs }

An imported data dir has the log but not its signing key: to serve it with 'civic-ledger
start', put the log's key file at <dir>/log.key (or give --log-key-file); otherwise start
makes a new key, whose checkpoints do not verify with the pinned one.

Output: "OK: copied N entries, K checkpoints, tree size S, root <hex> (equal to the source)",
or "FAILED ...: <CHECK> — <message>". A progress bar is drawn on stderr when it is a terminal.

Exit codes: 0 imported and equal, 1 the bundle does not verify or the copy differs from it,
2 usage (bad flag, a partial bundle, the target holds another log), 3 could not run
(server unreachable, unreadable bundle, another writer holds the target).
`;

const schema = z.object({
  config: logSchema.config,
  'log-key': logSchema['log-key'],
  ...logKeysFlagSchema,
  origin: logSchema.origin,
  bundle: nonEmpty,
  'data-dir': nonEmpty.optional(),
  to: mongoUrlFlag.optional(),
  database: databaseFlag.optional(),
  chunk: chunkFlag,
  json: jsonSchema,
});
type Values = z.output<typeof schema>;

async function runImport(v: Values, io: Io): Promise<number> {
  if (v['data-dir'] !== undefined && (v.to !== undefined || v.database !== undefined)) {
    throw new CliError(
      'USAGE',
      `--data-dir and --${v.to !== undefined ? 'to' : 'database'}: give one target`,
    );
  }
  const { config } = loadConfigFile(io, v.config);
  // With --log-keys (a rotated log) the last key stands for the log: the default origin.
  const { logKey, logKeys } = await pinnedKeys(io, v, config);
  const origin = resolveOrigin(v.origin, config, logKey);
  const bundleDir = resolve(io.cwd, v.bundle);
  const dataDir = v['data-dir'] === undefined ? undefined : resolve(io.cwd, v['data-dir']);
  const url = dataDir === undefined ? targetUrl(v.to, io) : undefined;
  if (dataDir === undefined && url === undefined) {
    throw new CliError('USAGE', 'where to? give --data-dir <dir> or --to <mongodb url>');
  }
  const database = targetDatabase(v.database, io);

  // A usage error before any work: a data dir that already holds a log.
  const { inspectDataDir } = await import('../sqlite-source.ts');
  if (dataDir !== undefined) {
    let held: number;
    try {
      held = inspectDataDir(dataDir)?.size ?? 0;
    } catch (e) {
      throw new CliError(
        'IO_ERROR',
        `--data-dir: cannot read ${join(dataDir, 'ledger.db')}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    if (held > 0) {
      throw new CliError(
        'USAGE',
        `--data-dir: ${dataDir} already holds a log of ${held} entries; import into an empty directory`,
      );
    }
  }

  const [{ verifyBundleReport }, { copyLog, copyOwner, printCopy }, { bundleSource }] = await Promise.all([
    import('./verify.ts'),
    import('./copy-log.ts'),
    import('@civic-ledger/bundle'),
  ]);
  const sourceLabel = `bundle ${bundleDir}`;
  const targetLabel = async () =>
    dataDir !== undefined
      ? `data dir ${dataDir}`
      : `MongoDB ${(await import('@civic-ledger/storage-mongodb')).describeUrl(url!)} database ${database}`;

  const report = await verifyBundleReport(io, bundleDir, {
    logKey,
    logKeys,
    origin,
    checkSignatures: true,
    threads: 0,
  });
  if (!report.ok) {
    return printCopy(io, v.json, {
      ok: false,
      source: sourceLabel,
      target: await targetLabel(),
      verified: false,
      stage: 'verify',
      check: report.check,
      index: report.index,
      eventHash: report.eventHash,
      message: `${report.message}${report.file === null ? '' : ` [${report.file}${report.line === null ? '' : ` line ${report.line}`}]`}`,
      copied: 0,
      resumedFrom: 0,
      checkpoints: report.checkpoints,
      size: 0,
      rootHash: null,
      sourceSize: report.size,
      sourceRootHash: null,
      checkpoint: null,
      elapsedMs: report.elapsedMs,
    });
  }
  if (report.bundle !== 'full') {
    throw new CliError(
      'USAGE',
      '--bundle: a partial bundle holds chosen events, not the whole log; import a full bundle (export without --events/--indexes)',
    );
  }
  const source = bundleSource(bundleDir, { size: report.size });
  const copy = (store: LedgerStore, label: string) => {
    const progress = progressBar(io, 'importing', 'entries');
    return copyLog(source, store, {
      owner: copyOwner('import'),
      target: label,
      logKey,
      logKeys,
      origin,
      chunk: v.chunk,
      onProgress: (d, t) => progress.update(d, t),
    }).finally(() => progress.done());
  };

  if (dataDir === undefined) {
    const target = await openMongoTarget(url!, database);
    try {
      const result = await copy(target.store, target.label);
      return printCopy(io, v.json, output(result, sourceLabel, target.label));
    } finally {
      await target.store.close();
    }
  }

  // SQLite: into a file aside, moved into place only when complete and equal, so a failed or
  // interrupted import leaves no half-written ledger.db. An existing empty one is used as is.
  const { SqliteStore } = await import('@civic-ledger/storage');
  const label = `data dir ${dataDir}`;
  const inPlace = existsSync(join(dataDir, 'ledger.db'));
  const work = inPlace ? dataDir : join(dataDir, `.importing-${process.pid}`);
  let store;
  try {
    mkdirSync(dataDir, { recursive: true });
    if (!inPlace) rmSync(work, { recursive: true, force: true });
    store = new SqliteStore({ path: join(work, 'ledger.db') });
  } catch (e) {
    throw new CliError('IO_ERROR', `--data-dir: cannot write ${work}: ${(e as Error).message}`, { cause: e });
  }
  let result;
  try {
    result = await copy(store, label);
  } finally {
    await store.close();
    if (!inPlace && result?.ok !== true) rmSync(work, { recursive: true, force: true });
  }
  if (!inPlace && result.ok) {
    // A cleanly closed SQLite database in WAL mode leaves no -wal/-shm: the file is whole.
    if (existsSync(join(dataDir, 'ledger.db'))) {
      rmSync(work, { recursive: true, force: true });
      throw new CliError(
        'USAGE',
        `--data-dir: ${dataDir} got a ledger.db while importing; nothing was moved`,
      );
    }
    renameSync(join(work, 'ledger.db'), join(dataDir, 'ledger.db'));
    rmSync(work, { recursive: true, force: true });
  }
  const code = printCopy(io, v.json, output(result, sourceLabel, label));
  if (!v.json) {
    io.err(
      `to serve it: put the log's key file at ${join(dataDir, 'log.key')}, then civic-ledger start --data-dir ${dataDir}\n`,
    );
  }
  return code;
}

function output(r: CopyReport, source: string, target: string): CopyOutput {
  return { ...r, source, target, verified: true, stage: r.ok ? null : 'copy', eventHash: null };
}

export const command = defineCommand({
  spec: {
    name: 'import',
    summary: 'import a full evidence bundle into a data dir or MongoDB, verified first',
    help: HELP,
    options: {
      config: LOG_OPTIONS.config,
      'log-key': LOG_OPTIONS['log-key'],
      ...LOG_KEYS_OPTIONS,
      origin: LOG_OPTIONS.origin,
      bundle: { type: 'string' },
      'data-dir': { type: 'string' },
      to: { type: 'string' },
      database: { type: 'string' },
      chunk: { type: 'string' },
      json: { type: 'boolean' },
    },
    schema,
  },
  run: runImport,
});
