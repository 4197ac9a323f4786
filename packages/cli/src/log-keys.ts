// --log-keys <file>: the keys of a log whose key was rotated, each with its validity window
// over tree sizes (inclusive; @civic-ledger/verifier's LogKeyWindow). One reader for every
// command that pins the log key (verify, monitor, export, proof, emit, register, lineage,
// import, migrate); the file is parsed by @civic-ledger/monitor's parseLogKeysFile, which the
// monitor service also reads its CIVIC_LEDGER_LOG_KEYS_FILE with.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import type { LogKeyWindow } from '@civic-ledger/verifier';
import { nonEmpty } from './args.ts';
import { requireLogKey, type ConfigFile } from './config.ts';
import { CliError } from './errors.ts';
import type { Io } from './io.ts';

/**
 * The --log-keys file, read by the monitor package's parser (the monitor service reads its
 * CIVIC_LEDGER_LOG_KEYS_FILE with the same one): a wrong file is a usage error naming the member.
 */
export async function readLogKeys(path: string): Promise<LogKeyWindow[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(
      'USAGE',
      `--log-keys: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { cause: e },
    );
  }
  // Loaded only when the flag is given: the monitor package is large for commands like proof.
  const { parseLogKeysFile, isMonitorError } = await import('@civic-ledger/monitor');
  try {
    return parseLogKeysFile(text);
  } catch (e) {
    if (isMonitorError(e)) throw new CliError('USAGE', `--log-keys: ${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** The flag, for a command's options and its zod schema. */
export const LOG_KEYS_OPTIONS = {
  'log-keys': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;
export const logKeysFlagSchema = { 'log-keys': nonEmpty.optional() };

/** What a command pins: one key, or a rotated log's keys (then `logKey` is the last, current one). */
export interface PinnedKeys {
  /** The key standing for the log: default origin, state file names, messages. */
  logKey: string;
  /** With --log-keys: every key and its window. */
  logKeys: LogKeyWindow[] | undefined;
}

/**
 * --log-key or --log-keys (exactly one; both is a usage error). Without either, the config
 * file's logKey, else `fallback` (e.g. a policy's one log line), else LOG_KEY_MISSING.
 */
export async function pinnedKeys(
  io: Io,
  values: { 'log-key'?: string | undefined; 'log-keys'?: string | undefined },
  config: ConfigFile,
  fallback?: string,
): Promise<PinnedKeys> {
  if (values['log-keys'] !== undefined && values['log-key'] !== undefined)
    throw new CliError('USAGE', '--log-key and --log-keys: give one of the two, not both');
  if (values['log-keys'] !== undefined) {
    const logKeys = await readLogKeys(resolve(io.cwd, values['log-keys']));
    return { logKey: logKeys.at(-1)!.key, logKeys };
  }
  return {
    logKey: requireLogKey(values['log-key'] ?? config.logKey ?? fallback, config),
    logKeys: undefined,
  };
}

/**
 * As pinnedKeys, for a command that also works unverified: undefined when neither flag nor
 * the config file pins a key.
 */
export async function optionalPinnedKeys(
  io: Io,
  values: { 'log-key'?: string | undefined; 'log-keys'?: string | undefined },
  config: ConfigFile,
): Promise<PinnedKeys | undefined> {
  if (values['log-keys'] === undefined && (values['log-key'] ?? config.logKey) === undefined)
    return undefined;
  return pinnedKeys(io, values, config);
}

/** The trust to hand to the SDK, the monitor or the verifier: `{ logKey }` or `{ logKeys }`. */
export function pinOf(p: PinnedKeys): { logKey: string } | { logKeys: LogKeyWindow[] } {
  return p.logKeys === undefined ? { logKey: p.logKey } : { logKeys: p.logKeys };
}

/** Help text of the flag, for each command's usage. */
export const LOG_KEYS_HELP = `  --log-keys <file>       instead of --log-key, for a log whose key was rotated: a JSON file
                          [{ "key": "<verifier key text>", "fromSize": n, "untilSize": n }]
                          (oldest first; sizes optional, inclusive). A checkpoint of tree size
                          n must carry a valid signature of a key whose window holds n. The
                          last key is the current one (default origin, state file)`;
