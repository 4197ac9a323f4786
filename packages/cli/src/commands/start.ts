// start: the standalone ledger in this process. `--demo` seeds the demo city into a fresh
// data directory first (through the ledger library, before the HTTP server listens), then
// prints the URL, the log key to pin and commands to try. Read access control is on unless
// turned off: with a demo, read tokens for its oversight body and one auditor are written next
// to its keys (never printed). SIGINT/SIGTERM close it in order.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

Read access (--access-control tokens, the default): checkpoints, proofs and chain heads are
public; events, entries, lineage traces and findings need a bearer token (scope auditor), the
access log scope oversight, and every such read is written to <data dir>/access-log.db. Tokens
are signed with <data dir>/token-issuer.key (created 0600 on first start): 'civic-ledger token
issue'. With --demo, tokens for the demo's oversight body (oversight-board, scope oversight)
and one auditor (transport-agency, scope auditor, tracing where its camera data went) are
written to <data dir>/demo-keys/oversight.token and auditor.token (0600, valid 7 days; a
restart reuses them while valid for another day, else issues new ones): pass them to the
reading commands with --token <file>. They are never printed, only their paths.

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
  --access-control <mode> tokens (default): only the public scope without a bearer token;
                          off: every read route, events and entries included, open to anyone
                          (development only; warns at start)
  --json                  print one JSON line when ready: { url, docs, origin, logKey, size,
                          dataDir, demoKeys, seeded, accessControl, tokenIssuerKey, tokens }
                          (tokens: { oversight, auditor } file paths with a demo, else null)

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
  'access-control': z.enum(['tokens', 'off'], { error: 'tokens or off' }).optional(),
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
  CIVIC_LEDGER_ACCESS_CONTROL: '--access-control',
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

/** The demo's read tokens: who holds them, with which scope, and their file under demo-keys/. */
const DEMO_TOKENS = [
  { name: 'oversight', org: 'oversight-board', scope: 'oversight' },
  // The transport agency: its camera data goes to the police and to vendors, so it is the
  // demo organization with the most reason to trace where its data went.
  { name: 'auditor', org: 'transport-agency', scope: 'auditor' },
] as const;
type DemoTokenName = (typeof DEMO_TOKENS)[number]['name'];
type DemoTokenFiles = Record<DemoTokenName, string>;

const DEMO_TOKEN_TTL_SECONDS = 7 * 24 * 3600;
/** A token with less left than this is replaced at start, so the printed commands keep working. */
const DEMO_TOKEN_MIN_LEFT_SECONDS = 24 * 3600;

/**
 * The demo's read tokens in `dir` (mode 0600): each file kept while the running ledger accepts
 * it for the same organization and scope for at least another day, otherwise issued anew with
 * the service's issuer key. Returns the file paths; the tokens themselves are never printed.
 */
async function ensureDemoTokens(
  io: Io,
  dir: string,
  origin: string,
  access: NonNullable<RunningService['access']>,
): Promise<DemoTokenFiles> {
  const { issueToken } = await import('@civic-ledger/access');
  const files = {} as DemoTokenFiles;
  for (const t of DEMO_TOKENS) {
    const file = join(dir, `${t.name}.token`);
    files[t.name] = file;
    let reuse = false;
    try {
      const grant = await access.verifier.verify(readFileSync(file, 'utf8').trim());
      reuse =
        grant.org === t.org &&
        grant.scope === t.scope &&
        grant.expiresAt - Date.now() / 1000 >= DEMO_TOKEN_MIN_LEFT_SECONDS;
    } catch {
      // Missing, unreadable, expired or from another issuer key: issue a new one.
    }
    if (reuse) continue;
    const token = await issueToken(access.issuerKey, {
      origin,
      org: t.org,
      scope: t.scope,
      ttlSeconds: DEMO_TOKEN_TTL_SECONDS,
    });
    // Written beside, then renamed: a reader never sees half a token, and the mode is 0600 from the start.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
    renameSync(tmp, file);
    io.err(`issued the demo's ${t.name} token (${t.org}, scope ${t.scope}, valid 7 days): ${file}\n`);
  }
  return files;
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
  accessControl: 'tokens' | 'off';
  tokenIssuerKey: string | null;
  tokens: DemoTokenFiles | null;
  compliance?: boolean;
}): string {
  const pin = `--url ${r.url} --log-key ${quote(r.logKey)} --origin ${quote(r.origin)}`;
  // Which token each command reads with: the demo's, a file the operator issues, or none (off).
  const own = { oversight: './oversight.token', auditor: './auditor.token' };
  const tokenFile = (name: DemoTokenName) =>
    r.accessControl === 'off' ? '' : ` --token ${quote(r.tokens?.[name] ?? own[name])}`;
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
  if (r.accessControl === 'off') {
    lines.push('  Access:     OFF: every read route, events and entries included, is open to anyone');
  } else {
    lines.push(`  Access:     tokens (events, entries, lineage and findings need one; reads are logged)`);
    if (r.tokenIssuerKey !== null) lines.push(`  Token key:  ${r.tokenIssuerKey} (signs read tokens)`);
    if (r.tokens !== null) {
      lines.push(
        `  Tokens:     ${r.tokens.oversight} (oversight-board, scope oversight)`,
        `              ${r.tokens.auditor} (transport-agency, scope auditor)`,
      );
    }
  }
  lines.push('', 'Publish the log key: verifiers pin it and never take it from the server. Try:', '');
  if (r.accessControl === 'tokens' && r.tokens === null && r.tokenIssuerKey !== null) {
    // No demo: the operator issues tokens to registered organizations first.
    const issue = `civic-ledger token issue --key ${quote(r.tokenIssuerKey)} --origin ${quote(r.origin)}`;
    lines.push(
      `  ${issue} --org <oversight org> --scope oversight --out ${own.oversight}`,
      `  ${issue} --org <agency org> --scope auditor --out ${own.auditor}`,
    );
  }
  lines.push(
    `  civic-ledger verify ${pin}${tokenFile('oversight')}`,
    `  civic-ledger proof ${pin} --index ${Math.max(0, r.size - 1)}${tokenFile('auditor')}`,
    `  civic-ledger export ${pin} --out ./evidence${tokenFile('auditor')}`,
  );
  if (r.demoKeys !== null) {
    lines.push(`  civic-ledger emit ${pin} --key ${quote(join(r.demoKeys, 'police.key'))} --json event.json`);
  }
  if (r.compliance === true) {
    lines.push(
      `  civic-ledger findings --url ${r.url} --outcome violation${tokenFile('auditor')}`,
      `  civic-ledger decide --url ${r.url} --org police --dataset transport-agency/plate-extract --purpose city:RoadSafetyEnforcement${tokenFile('auditor')}`,
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
      CIVIC_LEDGER_ACCESS_CONTROL: v['access-control'],
    };
    const config = await serviceConfig(io, overrides);
    if (config.access === undefined) {
      const how = v['access-control'] === 'off' ? '--access-control off' : 'CIVIC_LEDGER_ACCESS_CONTROL=off';
      io.err(
        `WARNING: read access control is off (${how}): every read route, events and entries included, is open to anyone. Development only.\n`,
      );
    }
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
    const demoKeys = existsSync(demoKeysDir) ? demoKeysDir : null;
    let tokens: DemoTokenFiles | null = null;
    if (service.access !== undefined && demoKeys !== null) {
      try {
        tokens = await ensureDemoTokens(io, demoKeys, config.origin, service.access);
      } catch (e) {
        await service.close();
        throw new CliError('IO_ERROR', `could not write the demo's read tokens: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
    const info = {
      url: service.url,
      docs: `${service.url}/docs`,
      origin: config.origin,
      logKey: formatVerifierKey(service.logKey),
      size: service.ledger.size,
      dataDir,
      demoKeys,
      seeded,
      accessControl: service.access === undefined ? ('off' as const) : ('tokens' as const),
      tokenIssuerKey: config.access?.issuerKeyFile ?? null,
      tokens,
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
      'access-control': { type: 'string' },
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
