// verify: the independent verifier. Trusts only the pinned log key and the state saved by
// its last successful run; recomputes every leaf hash, every signature with the key in
// force at its ledger position, every emitter chain, every checkpoint root, and checks the
// log only grew since the saved state. Stops at the first failure and names it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseVerifierKey } from '@civic-ledger/crypto';
import type { LogKeyWindow, LogSource, VerifyResult, VerifierState } from '@civic-ledger/verifier';
import type { Policy } from '@civic-ledger/witness';
import { z } from 'zod';
import { intFlag, nonEmpty, verifierKeyFlag } from '../args.ts';
import { defineCommand } from '../command.ts';
import { defaultStatePath, loadConfigFile, resolveOrigin, resolveStateDir } from '../config.ts';
import { CliError, EXIT, describe } from '../errors.ts';
import { progressBar, type Io } from '../io.ts';
import { LOG_KEYS_HELP, pinnedKeys } from '../log-keys.ts';
import { readStateFile, writeStateFile } from '../state.ts';
import { LOG_HELP, LOG_OPTIONS, jsonSchema, ledgerFetch, logSchema } from './common.ts';

const HELP = `Usage: civic-ledger verify (--url <url> | --data-dir <dir> | --bundle <dir>) (--log-key <key> | --log-keys <file>) [--policy <file>] [flags]

Verifies a whole log against the log's public key, pinned here (never taken from the
server): every leaf hash, every event signature with the key in force at that ledger
position, every emitter chain (seq/prev), every admission rule, every signed checkpoint
and its root, and that the log only grew since the last successful run (the state file).
Stops at the first failure and names the ledger index, the event hash and the check.

Where the log comes from (exactly one):
  --url <url>             a ledger's HTTP API
  --data-dir <dir>        a standalone data directory (its ledger.db, opened read-only)
  --bundle <dir>          an evidence bundle written by 'civic-ledger export' (offline)

Flags:
${LOG_HELP}
  --policy <file>         a witness policy (c2sp.org/tlog-policy: log, witness, group, quorum
                          lines): the verified checkpoint (the largest; a partial bundle's
                          one) must carry its quorum of witness cosignatures, else
                          QUORUM_NOT_MET (naming the group that fails) and exit 1. Its log
                          line must be the pinned key; without --log-key its one log line is
                          pinned
${LOG_KEYS_HELP}; with
                          --bundle: the manifest must name one of the keys
  --operator-key <key>    also pin the operator's first key (else taken from leaf 0)
  --state <file>          state file: read before, written after a successful run
                          (default <state dir>/verifier/<origin>-<hash>.json)
  --state-dir <dir>       state directory (default $CIVIC_LEDGER_STATE_DIR or ~/.civic-ledger)
  --no-save               do not write the state file
  --no-signatures         fast mode: every check except the Ed25519 event signatures
  --threads <n>           worker threads for signature checks (default 0: this thread)
  --until <where>         with --url: 'checkpoint' (default) verifies up to the latest signed
                          checkpoint; 'head' also the entries no checkpoint covers yet
  --json                  print one JSON object: { ok, index, eventHash, check, message,
                          size, checkpoints, treeSize, rootHash, origin, quorum, witnesses,
                          statePath, stateSaved }

Output: "OK: N entries, K checkpoints, tree size S, root <hex>" (with --policy: ", cosigned by
<witnesses> (quorum <name>)") or
"FAILED at ledger index I (event <hash>): <CHECK> — <message>". A progress bar is drawn on
stderr when it is a terminal.

Exit codes: 0 verified, 1 verification failed, 2 usage (no log key, bad flag, bad state
file), 3 could not read the log (server unreachable, unreadable file).
`;

const schema = z.object({
  ...logSchema,
  'data-dir': nonEmpty.optional(),
  bundle: nonEmpty.optional(),
  'operator-key': verifierKeyFlag.optional(),
  'log-keys': nonEmpty.optional(),
  policy: nonEmpty.optional(),
  state: nonEmpty.optional(),
  'state-dir': nonEmpty.optional(),
  save: z.boolean().default(true),
  signatures: z.boolean().default(true),
  threads: intFlag(0, 64).default(0),
  until: z.enum(['checkpoint', 'head']).default('checkpoint'),
  json: jsonSchema,
});

/** The verify command's JSON output (every member always present; null when not applicable). */
export interface VerifyReport {
  ok: boolean;
  /** Failure: the ledger index (for checkpoint and state checks, the tree size concerned). */
  index: number | null;
  eventHash: string | null;
  check: string | null;
  message: string | null;
  /** Failure with LOG_REWRITTEN and a saved border: the leaf range [from, to) that differs. */
  range: [number, number] | null;
  /** Entries verified (ok) or that the source claims (failure). */
  size: number;
  /** Signed checkpoints the source returned (all verified when ok). */
  checkpoints: number;
  /** The largest verified checkpoint (partial bundles: the one every entry is proven against). */
  treeSize: number | null;
  rootHash: string | null;
  origin: string;
  source: string;
  statePath: string | null;
  /** The size of the saved state the log was checked against (null: first run). */
  previousSize: number | null;
  stateSaved: boolean;
  /** Bundles: 'full' or 'partial' (null for other sources). */
  bundle: 'full' | 'partial' | null;
  /** Partial bundles: the chosen events, proven included. */
  chosen: { index: number; eventHash: string }[] | null;
  /** Bundle failures: the file and 1-based line concerned. */
  file: string | null;
  line: number | null;
  /** With --policy: the policy's quorum, and the witnesses whose cosignatures the checkpoint carries. */
  quorum: string | null;
  witnesses: string[] | null;
  elapsedMs: number;
}

const TREE_CHECKS = new Set([
  'BUNDLE_MALFORMED',
  'BUNDLE_VERSION',
  'BUNDLE_LOG_KEY',
  'BUNDLE_ORIGIN',
  'BUNDLE_COUNTS',
  'FILE_MISSING',
  'FILE_HASH',
  'CHECKPOINT_MALFORMED',
  'CHECKPOINT_ORIGIN',
  'CHECKPOINT_SIGNATURE',
  'CHECKPOINT_ORDER',
  'CHECKPOINT_ROOT',
  'LOG_TRUNCATED',
  'STATE_ORIGIN',
  'QUORUM_NOT_MET',
  'COSIGNATURE_INVALID',
]);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatReport(r: VerifyReport): string {
  if (r.ok) {
    const tree =
      r.treeSize === null ? 'no signed checkpoint yet' : `tree size ${r.treeSize}, root ${r.rootHash}`;
    const chosen =
      r.chosen === null
        ? ''
        : ` (partial bundle: ${plural(r.chosen.length, 'chosen event')} proven included)`;
    const cosigned =
      r.witnesses === null
        ? ''
        : `, cosigned by ${r.witnesses.join(', ') || 'no witness'} (quorum ${r.quorum})`;
    return `OK: ${plural(r.size, 'entry').replace(/entrys$/, 'entries')}, ${plural(r.checkpoints, 'checkpoint')}, ${tree}${cosigned}${chosen}`;
  }
  const fileLine = r.file === null ? '' : ` [${r.file}${r.line === null ? '' : ` line ${r.line}`}]`;
  const where =
    r.index === null
      ? 'in the bundle'
      : TREE_CHECKS.has(r.check ?? '')
        ? `at tree size ${r.index}`
        : `at ledger index ${r.index}${r.eventHash === null ? '' : ` (event ${r.eventHash})`}`;
  const range = r.range === null ? '' : ` [leaves ${r.range[0]}..${r.range[1] - 1}]`;
  return `FAILED ${where}${range}${fileLine}: ${r.check} — ${r.message}`;
}

/** What a bundle's manifest claims, read leniently (for the report of a failed bundle). */
function manifestSummary(dir: string): {
  entries: number;
  checkpoints: number;
  kind: 'full' | 'partial' | null;
} {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')) as {
      kind?: unknown;
      counts?: { entries?: unknown; checkpoints?: unknown };
    };
    const n = (x: unknown) => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : 0);
    return {
      entries: n(m.counts?.entries),
      checkpoints: n(m.counts?.checkpoints),
      kind: m.kind === 'full' || m.kind === 'partial' ? m.kind : null,
    };
  } catch {
    return { entries: 0, checkpoints: 0, kind: null };
  }
}

export interface BundleVerifyOptions {
  logKey: string;
  /** A rotated log's keys with their windows (then logKey is only the last of them). */
  logKeys?: LogKeyWindow[] | undefined;
  origin: string;
  state?: VerifierState | undefined;
  operatorKey?: string | undefined;
  checkSignatures: boolean;
  threads: number;
  /** A witness policy the bundle's checkpoint must satisfy. */
  policy?: Policy | undefined;
}

/** Verifies a bundle directory offline and reports it like a log (no state is written). */
export async function verifyBundleReport(
  io: Io,
  dir: string,
  o: BundleVerifyOptions,
): Promise<VerifyReport & { newState: VerifierState | undefined }> {
  const started = performance.now();
  const { verifyBundle } = await import('@civic-ledger/bundle');
  const progress = progressBar(io, 'verifying', 'entries');
  let r;
  try {
    r = await verifyBundle(dir, {
      ...(o.logKeys === undefined ? { logKey: o.logKey } : { logKeys: o.logKeys }),
      origin: o.origin,
      ...(o.state === undefined ? {} : { state: o.state }),
      ...(o.operatorKey === undefined ? {} : { operatorKey: o.operatorKey }),
      checkSignatures: o.checkSignatures,
      signatureThreads: o.threads,
      onProgress: (d, t) => progress.update(d, t),
      ...(o.policy === undefined ? {} : { policy: o.policy }),
    });
  } catch (e) {
    throw new CliError('IO_ERROR', `--bundle: cannot read ${dir}: ${(e as Error).message}`, { cause: e });
  } finally {
    progress.done();
  }
  const base = {
    origin: o.origin,
    source: `bundle ${dir}`,
    statePath: null,
    previousSize: o.state?.size ?? null,
    stateSaved: false,
    quorum: o.policy?.quorum ?? null,
    witnesses: r.ok && r.witnesses !== undefined ? r.witnesses : null,
    elapsedMs: Math.round(performance.now() - started),
  };
  if (!r.ok) {
    const m = manifestSummary(dir);
    return {
      ...base,
      ok: false,
      index: r.index ?? null,
      eventHash: r.eventHash ?? null,
      check: r.check,
      message: r.message,
      range: r.range ?? null,
      size: m.entries,
      checkpoints: m.checkpoints,
      treeSize: null,
      rootHash: null,
      bundle: m.kind,
      chosen: null,
      file: r.file ?? null,
      line: r.line ?? null,
      newState: undefined,
    };
  }
  const ok = {
    ...base,
    ok: true,
    index: null,
    eventHash: null,
    check: null,
    message: null,
    range: null,
    checkpoints: r.manifest.counts.checkpoints,
    file: null,
    line: null,
  } as const;
  if (r.kind === 'full') {
    return {
      ...ok,
      size: r.size,
      treeSize: r.checkpoint?.size ?? null,
      rootHash: r.checkpoint?.rootHash ?? null,
      bundle: 'full',
      chosen: null,
      newState: r.newState,
    };
  }
  return {
    ...ok,
    size: r.entries,
    treeSize: r.checkpoint.size,
    rootHash: r.checkpoint.rootHash,
    bundle: 'partial',
    chosen: r.chosen,
    newState: undefined,
  };
}

interface OpenedSource {
  source: LogSource;
  label: string;
  close(): void | Promise<void>;
}

async function openSource(
  v: z.output<typeof schema>,
  url: string | undefined,
  io: Io,
): Promise<OpenedSource> {
  if (v['data-dir'] !== undefined) {
    const dir = resolve(io.cwd, v['data-dir']);
    const { sqliteSource } = await import('../sqlite-source.ts');
    const source = sqliteSource(dir);
    return { source, label: `data dir ${dir}`, close: () => source.close() };
  }
  if (url !== undefined) {
    const { httpSource } = await import('@civic-ledger/verifier');
    return {
      source: httpSource(url, { until: v.until, fetch: ledgerFetch(io, v, url) }),
      label: url,
      close: () => undefined,
    };
  }
  throw new Error('unreachable: no source');
}

/** Counts the checkpoint notes a source returns (for the report). */
function counting(source: LogSource): { source: LogSource; count: () => number; size: () => number } {
  let checkpoints = 0;
  let size = 0;
  return {
    source: {
      size: async () => (size = await source.size()),
      leaves: (from, to) => source.leaves(from, to),
      checkpoints: async () => {
        const notes = await source.checkpoints();
        checkpoints = notes.length;
        return notes;
      },
    },
    count: () => checkpoints,
    size: () => size,
  };
}

type Values = z.output<typeof schema>;

/** The --policy file, parsed strictly; a file that does not parse is a usage error naming its line. */
async function readPolicy(path: string): Promise<Policy> {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    throw new CliError('USAGE', `--policy: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const { parsePolicy } = await import('@civic-ledger/witness');
  try {
    return parsePolicy(text);
  } catch (e) {
    throw new CliError('USAGE', `--policy: ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** The policy must list the pinned log key for the origin: else it could never accept this log. */
function checkPolicyLog(policy: Policy, logKey: string, origin: string): void {
  if (!policyLists(policy, logKey, origin)) {
    throw new CliError(
      'USAGE',
      `--policy: the policy has no log line with the pinned log key ${logKey} (origin ${origin})`,
    );
  }
}

function policyLists(policy: Policy, logKey: string, origin: string): boolean {
  const pinned = parseVerifierKey(logKey.trim());
  return policy.logs.some((l) => {
    const k = parseVerifierKey(l.verifierKey);
    return l.origin === origin && k.name === pinned.name && Buffer.from(k.publicKey).equals(pinned.publicKey);
  });
}

/** The policy's quorum over the largest verified checkpoint: who cosigned it, or the failure. */
async function checkQuorumOf(
  checkpoint: { size: number; note: string } | undefined,
  policy: Policy,
): Promise<{ witnesses: string[] } | { check: string; message: string; index: number }> {
  if (checkpoint === undefined) {
    return {
      check: 'QUORUM_NOT_MET',
      message: 'the log has no signed checkpoint to carry the quorum',
      index: 0,
    };
  }
  const { WitnessingError, requireCheckpointQuorum } = await import('@civic-ledger/ledger-core');
  try {
    return { witnesses: [...requireCheckpointQuorum(checkpoint.note, policy).witnesses] };
  } catch (e) {
    if (e instanceof WitnessingError)
      return { check: 'QUORUM_NOT_MET', message: e.message, index: checkpoint.size };
    return {
      check: 'COSIGNATURE_INVALID',
      message: `the checkpoint's cosignatures: ${(e as Error).message}`,
      index: checkpoint.size,
    };
  }
}

export async function runVerify(v: Values, io: Io): Promise<number> {
  const chosen = (['url', 'data-dir', 'bundle'] as const).filter((k) => v[k] !== undefined);
  if (chosen.length > 1) {
    throw new CliError('USAGE', `--${chosen[0]} and --${chosen[1]}: give one source of the log, not several`);
  }
  const { config } = loadConfigFile(io, v.config);
  const url = chosen.length === 0 ? config.url : v.url;
  if (chosen.length === 0 && url === undefined) {
    throw new CliError('USAGE', 'where is the log? give --url <url>, --data-dir <dir> or --bundle <dir>');
  }
  if (v['log-keys'] !== undefined && v['log-key'] !== undefined) {
    throw new CliError('USAGE', '--log-key and --log-keys: give one of the two, not both');
  }
  const policy = v.policy === undefined ? undefined : await readPolicy(resolve(io.cwd, v.policy));
  // The policy's one log line pins the key when nothing else does.
  const onlyLog = policy?.logs.length === 1 ? policy.logs[0]!.verifierKey : undefined;
  // With --log-keys the last (current) key stands for the log: default origin, state file.
  const { logKey, logKeys } = await pinnedKeys(io, v, config, onlyLog);
  const origin = resolveOrigin(v.origin, config, logKey);
  if (policy !== undefined) {
    if (logKeys === undefined) checkPolicyLog(policy, logKey, origin);
    else if (!logKeys.some((k) => policyLists(policy, k.key, origin)))
      throw new CliError(
        'USAGE',
        `--policy: the policy has no log line with any key of --log-keys (origin ${origin})`,
      );
  }
  const statePath =
    v.state !== undefined
      ? resolve(io.cwd, v.state)
      : (config.state ?? defaultStatePath(resolveStateDir(io, v['state-dir'], config), origin));
  const saved = readStateFile(statePath);
  const previous: VerifierState | undefined = saved?.state;
  const pinnedTexts = logKeys?.map((k) => k.key) ?? [logKey];
  if (saved?.logKey !== undefined && !pinnedTexts.includes(saved.logKey)) {
    // Same origin, another pinned key: a rotated log key, or another log reusing the origin
    // (a fresh demo). Either way the log must still only have grown; say why it might not.
    io.err(
      `note: the saved state ${statePath} was recorded with another log key (${saved.logKey}); ` +
        'if this is another log with the same origin, use --state <file> or remove that file\n',
    );
  }

  if (v.bundle !== undefined) {
    const dir = resolve(io.cwd, v.bundle);
    const report = await verifyBundleReport(io, dir, {
      logKey,
      logKeys,
      origin,
      state: previous,
      operatorKey: v['operator-key'],
      checkSignatures: v.signatures,
      threads: v.threads,
      policy,
    });
    // A full bundle is the whole log up to a checkpoint: it advances the state like a server
    // would. A partial bundle proves inclusion in one checkpoint, not the log's history.
    const { newState, ...rest } = report;
    return finish(
      io,
      v,
      { ...rest, statePath: v.save && newState ? statePath : null },
      newState,
      statePath,
      logKey,
      previous,
    );
  }

  const started = performance.now();
  const opened = await openSource(v, url, io);
  const counted = counting(opened.source);
  const progress = progressBar(io, 'verifying', 'entries');
  let result: VerifyResult;
  try {
    const { verifyLog } = await import('@civic-ledger/verifier');
    result = await verifyLog(counted.source, {
      ...(logKeys === undefined ? { logKey } : { logKeys }),
      origin,
      ...(previous === undefined ? {} : { state: previous }),
      ...(v['operator-key'] === undefined ? {} : { operatorKey: v['operator-key'] }),
      checkSignatures: v.signatures,
      signatureThreads: v.threads,
      onProgress: (done, total) => progress.update(done, total),
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('SERVER_ERROR', `could not read the log from ${opened.label}: ${describe(e)}`, {
      cause: e,
    });
  } finally {
    progress.done();
    await opened.close();
  }

  // The witnesses: the largest verified checkpoint must carry the policy's quorum.
  let quorumFailure: { check: string; message: string; index: number } | undefined;
  let witnesses: string[] | null = null;
  if (policy !== undefined && result.ok) {
    const checked = await checkQuorumOf(result.checkpoint, policy);
    if ('witnesses' in checked) witnesses = checked.witnesses;
    else quorumFailure = checked;
  }
  const failed = !result.ok || quorumFailure !== undefined;
  const report: VerifyReport = {
    ok: !failed,
    index: result.ok ? (quorumFailure?.index ?? null) : result.index,
    eventHash: result.ok ? null : (result.eventHash ?? null),
    check: result.ok ? (quorumFailure?.check ?? null) : result.check,
    message: result.ok ? (quorumFailure?.message ?? null) : result.message,
    range: result.ok ? null : (result.range ?? null),
    size: result.ok ? result.size : counted.size(),
    checkpoints: counted.count(),
    treeSize: !failed && result.ok ? (result.checkpoint?.size ?? null) : null,
    rootHash: !failed && result.ok ? (result.checkpoint?.rootHash ?? null) : null,
    origin,
    source: opened.label,
    statePath: v.save ? statePath : null,
    previousSize: previous?.size ?? null,
    stateSaved: false,
    bundle: null,
    chosen: null,
    file: null,
    line: null,
    quorum: policy?.quorum ?? null,
    witnesses,
    elapsedMs: Math.round(performance.now() - started),
  };
  return finish(
    io,
    v,
    report,
    result.ok && !failed ? result.newState : undefined,
    statePath,
    logKey,
    previous,
  );
}

const REPORT_ORDER: readonly (keyof VerifyReport)[] = [
  'ok',
  'index',
  'eventHash',
  'check',
  'message',
  'range',
  'size',
  'checkpoints',
  'treeSize',
  'rootHash',
  'origin',
  'quorum',
  'witnesses',
  'source',
  'bundle',
  'chosen',
  'file',
  'line',
  'statePath',
  'previousSize',
  'stateSaved',
  'elapsedMs',
];

/** The report with its members in one documented order, whatever built it. */
function ordered(r: VerifyReport): VerifyReport {
  return Object.fromEntries(REPORT_ORDER.map((k) => [k, r[k]])) as unknown as VerifyReport;
}

/** Saves the new state (only after success), prints the report, returns the exit code. */
function finish(
  io: Io,
  v: Values,
  report: VerifyReport,
  newState: VerifierState | undefined,
  statePath: string,
  logKey: string,
  previous: VerifierState | undefined,
): number {
  if (report.ok && v.save && newState !== undefined) {
    try {
      writeStateFile(statePath, newState, logKey);
      report.stateSaved = true;
    } catch (e) {
      throw new CliError(
        'IO_ERROR',
        `verified, but could not save the state to ${statePath}: ${(e as Error).message}`,
      );
    }
  }
  if (v.json) {
    io.out(`${JSON.stringify(ordered(report))}\n`);
  } else {
    io.out(`${formatReport(report)}\n`);
    if (report.ok) {
      const grew =
        previous === undefined
          ? 'no saved state: first run'
          : `the log only grew since the saved size ${previous.size}`;
      io.err(report.stateSaved ? `${grew}; state saved to ${statePath}\n` : `${grew}; state not saved\n`);
    }
  }
  return report.ok ? EXIT.OK : EXIT.VERIFICATION_FAILED;
}

export const command = defineCommand({
  spec: {
    name: 'verify',
    summary: 'verify a whole log',
    help: HELP,
    options: {
      ...LOG_OPTIONS,
      'data-dir': { type: 'string' },
      bundle: { type: 'string' },
      'operator-key': { type: 'string' },
      'log-keys': { type: 'string' },
      policy: { type: 'string' },
      state: { type: 'string' },
      'state-dir': { type: 'string' },
      save: { type: 'boolean' },
      signatures: { type: 'boolean' },
      threads: { type: 'string' },
      until: { type: 'string' },
      json: { type: 'boolean' },
    },
    schema,
  },
  run: runVerify,
});
