// start: the standalone ledger in this process. `--demo` seeds the demo city into a fresh
// data directory first (through the ledger library, before the HTTP server listens), then
// prints the URL, the log key to pin and commands to try. SIGINT/SIGTERM close it in order.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DemoCity } from '@civic-ledger/demo-city';
import type { RunningService, ServiceConfig } from '@civic-ledger/standalone-service';
import { z } from 'zod';
import { intFlag, nonEmpty, verifierKeyFlag } from '../args.ts';
import { defineCommand } from '../command.ts';
import { CliError, EXIT } from '../errors.ts';
import { progressBar, type Io } from '../io.ts';
import { inspectDataDir } from '../sqlite-source.ts';

const HELP = `Usage: civic-ledger start [--demo [--demo-size <n>] [--demo-seed <s>]] [flags]

Runs the standalone ledger: the HTTP API (under /v1, docs at /docs) on embedded SQLite in
<data dir>/ledger.db, signing checkpoints with the log key <data dir>/log.key (created on
first start, mode 0600). Prints the URL, the origin and the log's verifier key: publish
that key; verifiers pin it. Stops cleanly on Ctrl-C / SIGTERM.

  --demo                  on a fresh data dir, first seed the demo city (signed events of a
                          month of a city's data movements); the demo organizations' private
                          keys are written to <data dir>/demo-keys/ (mode 0600) so 'emit'
                          can be tried. On a data dir that already holds a log: no seeding.
  --demo-size <n>         events of the demo city, 100..1000000 (default 2000)
  --demo-seed <s>         demo city seed (default 42)
  --demo-violations       seed the demo city with a realistic share (about 2 %) of movements
                          that break its declarations, so the compliance findings have
                          something to show
  --compliance-key <file> run the compliance service in process with this key (a key of an
                          organization of role compliance; the demo's is
                          <data dir>/demo-keys/compliance.key): every appended event is
                          evaluated, findings are recorded on the ledger, GET /v1/findings and
                          POST /v1/decisions answer

Flags (each also read from its CIVIC_LEDGER_* variable, as the standalone service does):
  --data-dir <dir>        data directory (default ./data)
  --host <host>           listen address (default 127.0.0.1)
  --port <port>           listen port, 0 for any free port (default 8080)
  --origin <origin>       the log's name (default civic-ledger.localhost/log; with --demo
                          ledger.example-city.eu/log; an existing log keeps its own)
  --operator-key <key>    the operator's first key, verifier key text: required for a fresh
                          log without --demo (an existing log's is read from its first entry)
  --log-key-file <file>   private log key file (default <data dir>/log.key)
  --checkpoint-max-entries <n>   sign a checkpoint once n entries are uncovered (default 1000)
  --checkpoint-max-delay-ms <ms> ...and otherwise within this delay (default 1000)
  --log-level <level>     fatal|error|warn|info|debug|trace|silent (default warn; JSON lines
                          on stdout)
  --json                  print one JSON line when ready: { url, docs, origin, logKey, size,
                          dataDir, demoKeys, seeded }

Exit codes: 0 stopped cleanly, 2 usage (bad flag, missing operator key, origin differs from
the existing log's), 3 could not start (port in use, unreadable data), 130 interrupted while
seeding (nothing is kept: the next start seeds again).
`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = z.object({
  'data-dir': nonEmpty.optional(),
  host: nonEmpty.optional(),
  port: intFlag(0, 65535).optional(),
  origin: nonEmpty.optional(),
  'operator-key': verifierKeyFlag.optional(),
  'log-key-file': nonEmpty.optional(),
  'checkpoint-max-entries': intFlag(1).optional(),
  'checkpoint-max-delay-ms': intFlag(10).optional(),
  'log-level': z.enum(LOG_LEVELS).default('warn'),
  demo: z.boolean().default(false),
  'demo-size': intFlag(100, 1_000_000).optional(),
  'demo-seed': nonEmpty.optional(),
  'demo-violations': z.boolean().optional(),
  'compliance-key': nonEmpty.optional(),
  json: z.boolean().default(false),
});
type Values = z.output<typeof schema>;

const FLAG_OF_VARIABLE: Record<string, string> = {
  CIVIC_LEDGER_DATA_DIR: '--data-dir',
  CIVIC_LEDGER_HOST: '--host',
  CIVIC_LEDGER_PORT: '--port',
  CIVIC_LEDGER_ORIGIN: '--origin',
  CIVIC_LEDGER_OPERATOR_KEY: '--operator-key',
  CIVIC_LEDGER_LOG_KEY_FILE: '--log-key-file',
  CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: '--checkpoint-max-entries',
  CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '--checkpoint-max-delay-ms',
  CIVIC_LEDGER_LOG_LEVEL: '--log-level',
};

const DEFAULT_DEMO_SIZE = 2000;
const DEFAULT_DEMO_SEED = '42';
const SEEDING_PREFIX = '.seeding-';

/** Whether a process of that id runs (a seeding folder of a live process is not a leftover). */
function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The service configuration: flags over CIVIC_LEDGER_* variables over the service defaults. */
async function serviceConfig(io: Io, overrides: Record<string, string | undefined>): Promise<ServiceConfig> {
  const { loadConfig, ConfigError } = await import('@civic-ledger/standalone-service');
  const env: Record<string, string | undefined> = { ...io.env };
  for (const [k, val] of Object.entries(overrides)) if (val !== undefined) env[k] = val;
  try {
    return loadConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const issues = e.issues.map((i) => {
      const flag = FLAG_OF_VARIABLE[i.variable];
      if (i.variable === 'CIVIC_LEDGER_OPERATOR_KEY' && i.rule === 'required') {
        return "--operator-key: required for a new log (the operator's first key, verifier key text), or use --demo";
      }
      return `${flag === undefined ? i.variable : `${flag} (or ${i.variable})`}: ${i.rule}`;
    });
    throw new CliError('USAGE', issues.join('; '));
  }
}

/** Private keys of the demo organizations, for trying `emit`; mode 0600 in a 0700 folder. */
async function writeDemoKeys(dir: string, city: DemoCity): Promise<void> {
  const { writeSigningKeyFile } = await import('@civic-ledger/crypto');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [org, key] of city.keys) {
    const file = join(dir, `${org}.key`);
    rmSync(file, { force: true });
    writeSigningKeyFile(file, key);
  }
  const index = Object.fromEntries(
    [...city.keys.keys()].map((org) => [org, { keyFile: `${org}.key`, verifierKey: city.verifierKeys[org] }]),
  );
  writeFileSync(join(dir, 'keys.json'), `${JSON.stringify(index, null, 2)}\n`);
}

/**
 * Seeds the city into a temporary database next to the final one and moves it into place
 * only when complete: an interrupted seeding leaves no half-seeded log behind.
 */
async function seedDemo(
  io: Io,
  config: ServiceConfig,
  city: DemoCity,
  interrupted: () => boolean,
): Promise<number | undefined> {
  const [{ loadLogKey }, { Ledger }, { SqliteStore }, { ed25519Signer }] = await Promise.all([
    import('@civic-ledger/standalone-service'),
    import('@civic-ledger/ledger-core'),
    import('@civic-ledger/storage'),
    import('@civic-ledger/signed-note'),
  ]);
  const { key: logKey } = loadLogKey(config.logKeyFile, config.origin);
  const tmpDir = join(config.dataDir, `${SEEDING_PREFIX}${process.pid}`);
  rmSync(tmpDir, { recursive: true, force: true });
  const store = new SqliteStore({ path: join(tmpDir, 'ledger.db') });
  const ledger = await Ledger.open({
    store,
    origin: config.origin,
    logSigner: ed25519Signer(logKey),
    operatorKey: city.operatorKey,
    checkpoints: config.checkpoints,
  });
  const progress = progressBar(io, 'seeding the demo city', 'events');
  const started = performance.now();
  let done = 0;
  let complete: boolean;
  try {
    for (const batch of city.batchesSync()) {
      if (interrupted()) break;
      const results = await ledger.submit(batch);
      const refused = results.find((r) => !r.ok);
      if (refused && !refused.ok) {
        throw new CliError(
          'SERVER_ERROR',
          `the ledger refused a demo event: ${refused.error.code}: ${refused.error.message}`,
        );
      }
      done += batch.length;
      progress.update(done, city.size);
    }
    complete = !interrupted();
    if (complete) await ledger.checkpointNow();
  } catch (e) {
    complete = false;
    throw e;
  } finally {
    progress.done();
    await ledger.close();
    await store.close();
    if (!complete!) rmSync(tmpDir, { recursive: true, force: true });
  }
  if (!complete) return undefined;
  // A cleanly closed SQLite database in WAL mode has no -wal/-shm left: the file is whole.
  for (const f of readdirSync(tmpDir)) renameSync(join(tmpDir, f), join(config.dataDir, f));
  rmSync(tmpDir, { recursive: true, force: true });
  const seconds = (performance.now() - started) / 1000;
  io.err(`seeded ${done} events in ${seconds.toFixed(1)} s (${Math.round(done / seconds)} events/s)\n`);
  return done;
}

function quote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function banner(r: {
  url: string;
  origin: string;
  logKey: string;
  size: number;
  dataDir: string;
  demoKeys: string | null;
  compliance?: boolean;
}): string {
  const pin = `--url ${r.url} --log-key ${quote(r.logKey)} --origin ${quote(r.origin)}`;
  const lines = [
    'Civic Ledger is running.',
    '',
    `  URL:        ${r.url}`,
    `  API docs:   ${r.url}/docs`,
    `  Origin:     ${r.origin}`,
    `  Log key:    ${r.logKey}`,
    `  Entries:    ${r.size}`,
    `  Data dir:   ${r.dataDir}`,
  ];
  if (r.demoKeys !== null) lines.push(`  Demo keys:  ${r.demoKeys} (private keys of the demo organizations)`);
  lines.push(
    '',
    'Publish the log key: verifiers pin it and never take it from the server. Try:',
    '',
    `  civic-ledger verify ${pin}`,
    `  civic-ledger proof ${pin} --index ${Math.max(0, r.size - 1)}`,
    `  civic-ledger export ${pin} --out ./evidence`,
  );
  if (r.demoKeys !== null) {
    lines.push(`  civic-ledger emit ${pin} --key ${quote(join(r.demoKeys, 'police.key'))} --json event.json`);
  }
  if (r.compliance === true) {
    lines.push(
      `  civic-ledger findings --url ${r.url} --outcome violation`,
      `  civic-ledger decide --url ${r.url} --org police --dataset transport-agency/plate-extract --purpose city:RoadSafetyEnforcement`,
    );
  }
  lines.push('', 'Press Ctrl-C to stop.', '');
  return lines.join('\n');
}

export async function runStart(v: Values, io: Io): Promise<number> {
  if (!v.demo && (v['demo-size'] !== undefined || v['demo-seed'] !== undefined)) {
    throw new CliError(
      'USAGE',
      `--${v['demo-size'] !== undefined ? 'demo-size' : 'demo-seed'}: only with --demo`,
    );
  }
  const dataDir = resolve(io.cwd, v['data-dir'] ?? io.env['CIVIC_LEDGER_DATA_DIR'] ?? './data');
  let existing;
  try {
    existing = inspectDataDir(dataDir);
  } catch (e) {
    throw new CliError(
      'IO_ERROR',
      `--data-dir: cannot read ${join(dataDir, 'ledger.db')}: ${(e as Error).message}`,
    );
  }
  const fresh = existing === undefined;
  const seeding = v.demo && fresh;

  // Signals: while seeding they stop it (nothing is kept); once serving, they close the service.
  let signalled = false;
  let onSignal: () => void = () => undefined;
  const handler = () => {
    signalled = true;
    onSignal();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    let city: DemoCity | undefined;
    if (seeding) {
      if (v['operator-key'] !== undefined) {
        throw new CliError(
          'USAGE',
          '--operator-key: not with --demo on a fresh data dir (the demo city has its own operator)',
        );
      }
      const { generateDemoCity, violationHooks, DEFAULT_DAYS } = await import('@civic-ledger/demo-city');
      const size = v['demo-size'] ?? DEFAULT_DEMO_SIZE;
      city = generateDemoCity({
        seed: v['demo-seed'] ?? DEFAULT_DEMO_SEED,
        size,
        // About 2 % of the city's events, spread over the hours of the window.
        ...(v['demo-violations']
          ? { hooks: violationHooks({ perHour: Math.min(1, (0.02 * size) / (DEFAULT_DAYS * 24)) }) }
          : {}),
      });
    }
    const overrides: Record<string, string | undefined> = {
      CIVIC_LEDGER_DATA_DIR: dataDir,
      CIVIC_LEDGER_HOST: v.host,
      CIVIC_LEDGER_PORT: v.port === undefined ? undefined : String(v.port),
      CIVIC_LEDGER_ORIGIN:
        v.origin ??
        existing?.origin ??
        (city !== undefined && io.env['CIVIC_LEDGER_ORIGIN'] === undefined ? city.origin : undefined),
      CIVIC_LEDGER_OPERATOR_KEY:
        city?.operatorKey ??
        v['operator-key'] ??
        io.env['CIVIC_LEDGER_OPERATOR_KEY'] ??
        existing?.operatorKey,
      CIVIC_LEDGER_LOG_KEY_FILE:
        v['log-key-file'] === undefined ? undefined : resolve(io.cwd, v['log-key-file']),
      CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: v['checkpoint-max-entries']?.toString(),
      CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: v['checkpoint-max-delay-ms']?.toString(),
      CIVIC_LEDGER_LOG_LEVEL: v['log-level'],
      CIVIC_LEDGER_COMPLIANCE_KEY_FILE:
        v['compliance-key'] === undefined ? undefined : resolve(io.cwd, v['compliance-key']),
    };
    const config = await serviceConfig(io, overrides);
    if (existing?.origin !== undefined && config.origin !== existing.origin) {
      throw new CliError(
        'USAGE',
        `--origin: the data dir holds the log ${JSON.stringify(existing.origin)}; it cannot be served as ${JSON.stringify(config.origin)}`,
      );
    }

    // Seeding leftovers of an interrupted earlier start.
    if (existsSync(dataDir)) {
      for (const f of readdirSync(dataDir)) {
        if (f.startsWith(SEEDING_PREFIX) && !alive(Number(f.slice(SEEDING_PREFIX.length)))) {
          rmSync(join(dataDir, f), { recursive: true, force: true });
        }
      }
    }

    const demoKeysDir = join(dataDir, 'demo-keys');
    let seeded = 0;
    if (city !== undefined) {
      mkdirSync(dataDir, { recursive: true });
      io.err(`seeding the demo city (seed ${city.seed}, ${city.size} events) into ${dataDir}\n`);
      await writeDemoKeys(demoKeysDir, city);
      writeFileSync(
        join(dataDir, 'demo.json'),
        `${JSON.stringify({ seed: city.seed, size: city.size, origin: config.origin, operatorKey: city.operatorKey }, null, 2)}\n`,
      );
      const n = await seedDemo(io, config, city, () => signalled);
      if (n === undefined) {
        io.err('interrupted: the demo city was not seeded (the next start seeds it again)\n');
        return 130;
      }
      seeded = n;
    } else if (v.demo) {
      io.err(`${dataDir} already holds a log of ${existing?.size ?? 0} entries: not seeding the demo city\n`);
    }
    if (signalled) return 130;

    const { startService } = await import('@civic-ledger/standalone-service');
    const { formatVerifierKey } = await import('@civic-ledger/crypto');
    let service: RunningService;
    try {
      service = await startService(config);
    } catch (e) {
      throw new CliError('SERVER_ERROR', `could not start: ${(e as Error).message}`, { cause: e });
    }
    const stopped = new Promise<void>((resolveStopped) => {
      onSignal = () => {
        onSignal = () => undefined;
        io.err('closing...\n');
        service.close().then(
          () => resolveStopped(),
          (e: unknown) => {
            io.err(`close failed: ${(e as Error).message}\n`);
            resolveStopped();
          },
        );
      };
    });
    const info = {
      url: service.url,
      docs: `${service.url}/docs`,
      origin: config.origin,
      logKey: formatVerifierKey(service.logKey),
      size: service.ledger.size,
      dataDir,
      demoKeys: existsSync(demoKeysDir) ? demoKeysDir : null,
      seeded,
    };
    io.out(
      v.json
        ? `${JSON.stringify(info)}\n`
        : banner({ ...info, compliance: service.compliance !== undefined }),
    );
    if (signalled) onSignal();
    await stopped;
    io.err('stopped\n');
    return EXIT.OK;
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}

export const command = defineCommand({
  spec: {
    name: 'start',
    summary: 'run the standalone ledger',
    help: HELP,
    options: {
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      origin: { type: 'string' },
      'operator-key': { type: 'string' },
      'log-key-file': { type: 'string' },
      'checkpoint-max-entries': { type: 'string' },
      'checkpoint-max-delay-ms': { type: 'string' },
      'log-level': { type: 'string' },
      demo: { type: 'boolean' },
      'demo-size': { type: 'string' },
      'demo-seed': { type: 'string' },
      'demo-violations': { type: 'boolean' },
      'compliance-key': { type: 'string' },
      json: { type: 'boolean' },
    },
    schema,
  },
  run: runStart,
});
