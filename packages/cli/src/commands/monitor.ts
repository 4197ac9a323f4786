// monitor: follows a log from a saved state (@civic-ledger/monitor). Verifies every new
// entry, chain and checkpoint against the pinned log key, compares what witnesses cosigned
// with what the ledger serves, checks receipts and outside evidence, notifies organizations
// of the events in their name. Alerts are JSON lines on stdout; everything else on stderr.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256HexOfUtf8 } from '@civic-ledger/crypto';
import type { Alert, ClaimedReceipt, MonitorError, PollResult } from '@civic-ledger/monitor';
import { z } from 'zod';
import { intFlag, nonEmpty, urlFlag, verifierKeyFlag } from '../args.ts';
import { defineCommand } from '../command.ts';
import { loadConfigFile, resolveOrigin, resolveStateDir } from '../config.ts';
import { CliError, EXIT, usage } from '../errors.ts';
import { progressBar, type Io } from '../io.ts';
import { LOG_KEYS_HELP, readLogKeys } from '../log-keys.ts';
import { LOG_OPTIONS, ledgerFetch, logSchema } from './common.ts';

const HELP = `Usage: civic-ledger monitor --ledger <url> (--log-key <key> | --log-keys <file>) [flags]

Follows a log and raises alerts with evidence. From its state file (the last checkpoint it
verified, the chain heads, the keys the log registered), each poll:
  - opens the ledger's latest checkpoint with the pinned log key and checks it extends the
    last verified one (consistency proof);
  - fetches every new entry and checks it: leaf format, event schema, signature with the key
    in force at its ledger position, emitter chain (seq/prev: no gap, no duplicate), who may
    emit what; and that the entries hash to the root of every checkpoint the log signed;
  - compares the latest checkpoint each witness cosigned (GET <witness>/checkpoint/<origin>)
    with the ledger's: same size, same root, else a consistency proof must join them;
  - checks receipts (each event at its index, with its leaf hash) and delivers notifications.

Alerts, one JSON object per line on stdout: { id, code, severity, message, origin, time,
evidence }. Codes: ENTRY_INVALID, CHAIN_BREAK, REVOKED_KEY_USED, EQUIVOCATION,
CHECKPOINT_INVALID, ROOT_MISMATCH, LOG_INCONSISTENT, SPLIT_VIEW, RECEIPT_NOT_HONOURED,
PROOF_INVALID (critical); WITNESS_INVALID, QUORUM_NOT_MET, UNREACHABLE, NOTIFY_FAILED
(warning). Progress and a summary of each poll go to stderr.

Flags:
  --ledger <url>          the ledger's base URL (also --url, or "url" in the config file)
  --log-key <key>         the log's verifier key text, pinned (or "logKey" in the config file,
                          or the policy's log line)
${LOG_KEYS_HELP}.
                          Receipts: signed by a key whose window holds their index. The
                          state file records the keys (a note on stderr when they changed
                          since it was written)
  --origin <origin>       the log's origin line (default: the log key's name)
  --operator-key <key>    also pin the operator's first key (else taken from leaf 0)
  --config <file>         config file (default ./civic-ledger.json when present)
  --token <file>          a bearer token for the ledger's non-public routes (default
                          $CIVIC_LEDGER_TOKEN); sent to the ledger only, never to a witness
  --witness <url>         a witness to compare with (repeatable)
  --policy <file>         a tlog-policy file: its witnesses with a URL are compared too, and
                          must have cosigned what they serve
  --require-quorum        with --policy: alert when the ledger's checkpoint lacks the quorum
  --state <file>          state file (default <state dir>/monitor/<origin>-<hash>.json)
  --state-dir <dir>       state directory (default $CIVIC_LEDGER_STATE_DIR or ~/.civic-ledger)
  --once                  poll once, check the evidence given, and exit
  --interval <ms>         between polls (default 10000); the monitor also wakes on the
                          ledger's live checkpoint notifications unless --no-watch
  --org <id> --notify <url>
                          POST every event in the organization's name (and alerts about it)
                          as JSON to the webhook, retried with backoff; give them in pairs,
                          repeatable
  --receipts <file>       receipts to check (a receipt, { receipt }, an array, { receipts },
                          or JSON Lines), until each is honoured (repeatable)
  --check-bundle <path>   evidence to compare with the log: an evidence bundle directory, or a
                          JSON / JSON Lines file of signed events { event, signature }
                          (repeatable): another event at a known seq is EQUIVOCATION

Exit codes: (--once) 0 no alert, 1 an alert was raised, 2 usage (flags, policy or state file),
3 only UNREACHABLE alerts (the ledger or a witness could not be read). Without --once it runs
until SIGINT/SIGTERM and exits 0.
`;

const schema = z.object({
  ...logSchema,
  ledger: urlFlag.optional(),
  'log-keys': nonEmpty.optional(),
  'operator-key': verifierKeyFlag.optional(),
  witness: z.array(urlFlag).default([]),
  policy: nonEmpty.optional(),
  'require-quorum': z.boolean().default(false),
  state: nonEmpty.optional(),
  'state-dir': nonEmpty.optional(),
  once: z.boolean().default(false),
  interval: intFlag(100, 86_400_000).default(10_000),
  watch: z.boolean().default(true),
  org: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an organization id')).default([]),
  notify: z.array(urlFlag).default([]),
  receipts: z.array(nonEmpty).default([]),
  'check-bundle': z.array(nonEmpty).default([]),
});
type Values = z.output<typeof schema>;

/** The default state file of a monitored log: one per origin, under the state directory. */
function defaultMonitorStatePath(stateDir: string, origin: string): string {
  const slug = origin.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return join(stateDir, 'monitor', `${slug}-${sha256HexOfUtf8(origin).slice(0, 8)}.json`);
}

function fromMonitorError(e: MonitorError): CliError {
  switch (e.code) {
    case 'INVALID_CONFIG':
      return usage(e.message);
    case 'STATE_INVALID':
    case 'STATE_MISMATCH':
      return new CliError('CONFIG_INVALID', e.message, { cause: e });
    default:
      return new CliError('IO_ERROR', e.message, { cause: e });
  }
}

function summary(r: PollResult): string {
  const lines: string[] = [];
  const ledger = r.ledger ? `ledger at size ${r.ledger.size}` : 'ledger not read';
  lines.push(
    r.entries > 0
      ? `verified ${r.entries} new entries (${r.checkpoints} checkpoint${r.checkpoints === 1 ? '' : 's'}): tree size ${r.size}; ${ledger}`
      : `no new verified entries: tree size ${r.size}; ${ledger}`,
  );
  for (const w of r.witnesses)
    lines.push(`witness ${w.url}: ${w.status}${w.size === undefined ? '' : ` (size ${w.size})`}`);
  for (const x of r.receipts)
    lines.push(`receipt ${x.source} (index ${x.index}): ${x.status}${x.reason ? ` (${x.reason})` : ''}`);
  if (r.notifications.delivered + r.notifications.pending > 0)
    lines.push(`notifications: ${r.notifications.delivered} delivered, ${r.notifications.pending} pending`);
  const critical = r.alerts.filter((a) => a.severity === 'critical').length;
  if (r.alerts.length > 0) lines.push(`${r.alerts.length} alert(s), ${critical} critical`);
  return lines.map((l) => `monitor: ${l}\n`).join('');
}

/** 0 none; 1 an alert about the log (or a warning that is not just "unreachable"); 3 only unreachable. */
export function exitCodeOf(alerts: readonly Alert[]): number {
  if (alerts.length === 0) return EXIT.OK;
  return alerts.every((a) => a.code === 'UNREACHABLE') ? EXIT.FAILED : EXIT.VERIFICATION_FAILED;
}

async function runMonitor(v: Values, io: Io): Promise<number> {
  if (v.org.length !== v.notify.length)
    throw usage(
      `--org and --notify: give them in pairs (${v.org.length} --org, ${v.notify.length} --notify)`,
    );
  if (v['require-quorum'] && v.policy === undefined) throw usage('--require-quorum: needs --policy');
  const { config } = loadConfigFile(io, v.config);
  const ledgerUrl = v.ledger ?? v.url ?? config.url;
  if (ledgerUrl === undefined) throw usage('--ledger: required (or "url" in the config file)');
  const [mon, witness] = await Promise.all([
    import('@civic-ledger/monitor'),
    import('@civic-ledger/witness'),
  ]);

  let policy;
  if (v.policy !== undefined) {
    const path = resolve(io.cwd, v.policy);
    try {
      policy = witness.parsePolicy(readFileSync(path), { requireQuorum: v['require-quorum'] });
    } catch (e) {
      throw new CliError('CONFIG_INVALID', `--policy: ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (v['log-keys'] !== undefined && v['log-key'] !== undefined)
    throw usage('--log-key and --log-keys: give one of the two, not both');
  // With --log-keys (a rotated log) the last key stands for the log: default origin, state file.
  const logKeys = v['log-keys'] === undefined ? undefined : await readLogKeys(resolve(io.cwd, v['log-keys']));
  let logKey = logKeys?.at(-1)!.key ?? v['log-key'] ?? config.logKey;
  if (logKey === undefined && policy !== undefined) {
    const logs = policy.logs.filter((l) => v.origin === undefined || l.origin === v.origin);
    if (logs.length === 1) logKey = logs[0]!.verifierKey;
  }
  if (logKey === undefined)
    throw new CliError(
      'LOG_KEY_MISSING',
      'no log key: pin it with --log-key <verifier key text>, "logKey" in the config file, or a --policy with one log line; get it out of band from the log operator',
    );
  const origin = resolveOrigin(v.origin, config, logKey);
  const statePath =
    v.state !== undefined
      ? resolve(io.cwd, v.state)
      : defaultMonitorStatePath(resolveStateDir(io, v['state-dir'], config), origin);

  const receipts: ClaimedReceipt[] = [];
  try {
    for (const f of v.receipts) receipts.push(...mon.readReceipts(resolve(io.cwd, f)));
  } catch (e) {
    if (mon.isMonitorError(e)) throw new CliError('IO_ERROR', `--receipts: ${e.message}`, { cause: e });
    throw e;
  }

  let monitor;
  try {
    monitor = new mon.Monitor({
      ledgerUrl,
      ...(logKeys === undefined ? { logKey } : { logKeys }),
      origin,
      statePath,
      ...(v['operator-key'] === undefined ? {} : { operatorKey: v['operator-key'] }),
      witnesses: v.witness,
      ...(policy === undefined ? {} : { policy }),
      requireQuorum: v['require-quorum'],
      orgs: v.org.map((org, i) => ({ org, url: v.notify[i]! })),
      receipts,
      intervalMs: v.interval,
      watch: v.watch,
      // A bearer token (--token, $CIVIC_LEDGER_TOKEN) goes to the ledger's origin only.
      http: { fetch: ledgerFetch(io, v, ledgerUrl) },
    });
  } catch (e) {
    if (mon.isMonitorError(e)) throw fromMonitorError(e);
    throw e;
  }

  const before = new Set(monitor.trustedBefore.map((k) => k.key));
  const now = new Set(monitor.logKeys.map((k) => k.key));
  if (before.size !== now.size || [...now].some((k) => !before.has(k))) {
    // A rotation the monitor is told about, or another log reusing the origin: the log must
    // still only have grown since the state was written.
    io.err(
      `monitor: note: the state ${statePath} was written trusting ${[...before].join(', ')}; now pinned: ${[...now].join(', ')}\n`,
    );
  }

  const raised: Alert[] = [];
  monitor.on('alert', (a) => {
    raised.push(a);
    io.out(mon.formatAlert(a));
  });
  const progress = progressBar(io, 'verifying', 'entries');
  monitor.on('progress', (done, total) => progress.update(done, total));
  monitor.on('poll', (r) => {
    progress.done();
    io.err(summary(r));
  });
  io.err(`monitor: ${origin} at ${ledgerUrl} (state ${statePath}, verified size ${monitor.size})\n`);

  const checkEvidence = async () => {
    for (const p of v['check-bundle']) {
      const path = resolve(io.cwd, p);
      let reports;
      try {
        ({ reports } = await monitor.checkEvidence(path));
      } catch (e) {
        if (mon.isMonitorError(e))
          throw new CliError('IO_ERROR', `--check-bundle: ${e.message}`, { cause: e });
        throw e;
      }
      const counts = new Map<string, number>();
      for (const r of reports) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      io.err(
        `monitor: evidence ${path}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'empty'}\n`,
      );
      for (const r of reports)
        if (r.status !== 'in-log' && r.status !== 'consistent')
          io.err(`  ${r.source}: ${r.status}${r.reason ? ` (${r.reason})` : ''}\n`);
    }
  };

  if (v.once) {
    await monitor.pollOnce();
    await checkEvidence();
    return exitCodeOf(raised);
  }

  // Until a signal: stop after the poll in progress, with the state saved.
  const stop = () => {
    io.err('monitor: stopping\n');
    monitor.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await monitor.pollOnce();
    await checkEvidence();
    await monitor.run();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  io.err('monitor: stopped\n');
  return EXIT.OK;
}

export const command = defineCommand({
  spec: {
    name: 'monitor',
    summary: 'follow a log, verify it, compare witnesses, alert with evidence',
    help: HELP,
    options: {
      ...LOG_OPTIONS,
      ledger: { type: 'string' },
      'log-keys': { type: 'string' },
      'operator-key': { type: 'string' },
      witness: { type: 'string', multiple: true },
      policy: { type: 'string' },
      'require-quorum': { type: 'boolean' },
      state: { type: 'string' },
      'state-dir': { type: 'string' },
      once: { type: 'boolean' },
      interval: { type: 'string' },
      watch: { type: 'boolean' },
      org: { type: 'string', multiple: true },
      notify: { type: 'string', multiple: true },
      receipts: { type: 'string', multiple: true },
      'check-bundle': { type: 'string', multiple: true },
    },
    schema,
  },
  run: runMonitor,
});
