// The dispatcher: `civic-ledger <command> [flags]`, `civic-ledger help <command>`,
// `civic-ledger <command> --help`. Returns the exit code: 0 ok, 1 verification failed,
// 2 usage, 3 could not run.
import { parseCommand, printHelp } from './args.ts';
import type { Command } from './command.ts';
import { CliError, EXIT, describe } from './errors.ts';
import type { Io } from './io.ts';

interface Entry {
  summary: string;
  load: () => Promise<{ command: Command }>;
}

export const COMMANDS: Record<string, Entry> = {
  start: {
    summary: 'run the standalone ledger (HTTP API on embedded SQLite); --demo seeds the demo city',
    load: () => import('./commands/start.ts') as Promise<{ command: Command }>,
  },
  keygen: {
    summary: 'create an Ed25519 signing key file (0600) and print its verifier key',
    load: () => import('./commands/keygen.ts') as Promise<{ command: Command }>,
  },
  register: {
    summary: 'register an organization, source or dataset, or add/revoke a key',
    load: () => import('./commands/register.ts') as Promise<{ command: Command }>,
  },
  emit: {
    summary: 'sign and submit an event (JSON or flags), print the verified receipt',
    load: () => import('./commands/emit.ts') as Promise<{ command: Command }>,
  },
  verify: {
    summary: 'verify a whole log (server, data dir or bundle) against the pinned log key',
    load: () => import('./commands/verify.ts') as Promise<{ command: Command }>,
  },
  export: {
    summary: 'write an evidence bundle (full, or chosen events with proofs) as plain files',
    load: () => import('./commands/export.ts') as Promise<{ command: Command }>,
  },
  proof: {
    summary: 'fetch and verify the inclusion proof of one event',
    load: () => import('./commands/proof.ts') as Promise<{ command: Command }>,
  },
  lineage: {
    summary: 'ask where data came from and where it went: trace, footprint, flows, export, bundle',
    load: () => import('./commands/lineage.ts') as Promise<{ command: Command }>,
  },
  findings: {
    summary: 'list the compliance findings recorded in the log (violations, undetermined, overdue)',
    load: () => import('./commands/findings.ts') as Promise<{ command: Command }>,
  },
  decide: {
    summary: 'ask whether an organization may use or transfer a dataset for a purpose now (exit 0/1/4)',
    load: () => import('./commands/decide.ts') as Promise<{ command: Command }>,
  },
  migrate: {
    summary: 'copy a standalone log into MongoDB (verified first with --log-key), prove it equal',
    load: () => import('./commands/migrate.ts') as Promise<{ command: Command }>,
  },
  import: {
    summary: 'import a full evidence bundle into a data dir or MongoDB, verified first, prove it equal',
    load: () => import('./commands/import.ts') as Promise<{ command: Command }>,
  },
  monitor: {
    summary: 'follow a log: verify every new entry and checkpoint, compare witnesses, alert with evidence',
    load: () => import('./commands/monitor.ts') as Promise<{ command: Command }>,
  },
  token: {
    summary: 'issue and inspect bearer tokens for the non-public read routes (auditor, oversight)',
    load: () => import('./commands/token.ts') as Promise<{ command: Command }>,
  },
};

export const VERSION = '0.1.0';

export function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const list = Object.entries(COMMANDS)
    .map(([name, e]) => `  ${name.padEnd(width)}  ${e.summary}`)
    .join('\n');
  return `Usage: civic-ledger <command> [flags]

Civic Ledger: a tamper-evident provenance ledger for data collected in public space.

Commands:
${list}
  ${'help'.padEnd(width)}  show the help of a command: civic-ledger help <command>

Every command takes --help. Verifying commands read defaults from a config file
(--config <file>, else ./civic-ledger.json when present); flags override it.

Exit codes: 0 ok, 1 verification failed, 2 usage error (flags, config, missing log key),
3 could not run (server unreachable or refusing, unreadable file).
`;
}

function usageHint(name: string | undefined): string {
  return name === undefined
    ? "Run 'civic-ledger --help' for the commands."
    : `Run 'civic-ledger ${name} --help' for its flags.`;
}

export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(topHelp());
    return EXIT.USAGE;
  }
  if (first === '--help' || first === '-h') {
    io.out(topHelp());
    return EXIT.OK;
  }
  if (first === '--version' || first === '-V') {
    io.out(`civic-ledger ${VERSION}\n`);
    return EXIT.OK;
  }
  let name = first;
  let args = rest;
  if (first === 'help') {
    if (rest.length === 0) {
      io.out(topHelp());
      return EXIT.OK;
    }
    name = rest[0]!;
    args = ['--help'];
    if (rest.length > 1) {
      io.err(`civic-ledger help: takes one command name\n${usageHint(undefined)}\n`);
      return EXIT.USAGE;
    }
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    io.err(`civic-ledger: unknown command ${JSON.stringify(name)}\n${usageHint(undefined)}\n`);
    return EXIT.USAGE;
  }
  // Machine output was asked for: failures are also one JSON object on stdout.
  let machine = false;
  try {
    const { command } = await entry.load();
    const parsed = parseCommand(command.spec, args);
    if (parsed.help) {
      printHelp(io, command.spec);
      return EXIT.OK;
    }
    const values = parsed.values as Record<string, unknown>;
    machine = values['json'] === true || values['output'] === 'json';
    return await command.run(parsed.values, io);
  } catch (e) {
    if (machine) {
      const code = e instanceof CliError ? e.code : 'FAILED';
      io.out(`${JSON.stringify({ ok: false, error: { code, message: describe(e) } })}\n`);
    }
    if (e instanceof CliError) {
      io.err(`civic-ledger ${name}: ${e.message}\n`);
      if (e.code === 'USAGE') io.err(`${usageHint(name)}\n`);
      return e.exitCode;
    }
    io.err(`civic-ledger ${name}: ${describe(e)}\n`);
    if (io.env['CIVIC_LEDGER_DEBUG']) io.err(`${(e as Error)?.stack ?? ''}\n`);
    return EXIT.FAILED;
  }
}
