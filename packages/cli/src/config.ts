// The config file (`--config <file>`, else `./civic-ledger.json` when present): defaults for
// the flags the verifying and emitting commands share. Flags override it. Relative paths in
// it are relative to the file. The log key pinned here is the trust anchor: it is never
// taken from a server.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { sha256HexOfUtf8 } from '@civic-ledger/crypto';
import { parseVerifierKey } from '@civic-ledger/crypto';
import { z } from 'zod';
import { urlFlag, verifierKeyFlag } from './args.ts';
import { CliError } from './errors.ts';
import type { Io } from './io.ts';

export const DEFAULT_CONFIG_FILE = 'civic-ledger.json';

export const configSchema = z.strictObject({
  /** Ledger base URL, e.g. http://127.0.0.1:8080. */
  url: urlFlag.optional(),
  /** The log's verifier key text, published by its operator. */
  logKey: verifierKeyFlag.optional(),
  /** The log's origin line (default: the log key's name). */
  origin: z.string().min(1).optional(),
  /** Verifier state file. */
  state: z.string().min(1).optional(),
  /** Directory for verifier states and the emitter outbox (default ~/.civic-ledger). */
  stateDir: z.string().min(1).optional(),
  /** Private key file used to sign events. */
  key: z.string().min(1).optional(),
});
export type ConfigFile = z.output<typeof configSchema>;

export interface LoadedConfig {
  config: ConfigFile;
  /** The file read, if any. */
  path: string | undefined;
}

/** Reads `explicit` (must exist) or `./civic-ledger.json` (if it exists). */
export function loadConfigFile(io: Io, explicit: string | undefined): LoadedConfig {
  const path = explicit === undefined ? resolve(io.cwd, DEFAULT_CONFIG_FILE) : resolve(io.cwd, explicit);
  if (!existsSync(path)) {
    if (explicit !== undefined) throw new CliError('CONFIG_INVALID', `--config: ${path} does not exist`);
    return { config: {}, path: undefined };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError('CONFIG_INVALID', `config file ${path}: not JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown member(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : `${i.path.join('.') || '(file)'}: ${i.message}`,
    );
    throw new CliError('CONFIG_INVALID', `config file ${path}: ${issues.join('; ')}`);
  }
  const dir = dirname(path);
  const c = parsed.data;
  const rel = (p: string | undefined) => (p === undefined ? undefined : resolve(dir, p));
  const config: ConfigFile = { ...c };
  for (const k of ['state', 'stateDir', 'key'] as const) {
    const v = rel(c[k]);
    if (v !== undefined) config[k] = v;
  }
  return { config, path };
}

const LOG_KEY_HELP =
  'pin the log key with --log-key <verifier key text> or "logKey" in the config file. ' +
  'Get it out of band from the log operator, who publishes it (`civic-ledger start` prints it); ' +
  'it is never taken from the server you verify.';

/** The pinned log key: from the flag, else the config file, else a usage error saying how to get it. */
export function requireLogKey(flag: string | undefined, config: ConfigFile): string {
  const key = flag ?? config.logKey;
  if (key === undefined) throw new CliError('LOG_KEY_MISSING', `no log key: ${LOG_KEY_HELP}`);
  return key;
}

/** The origin: the flag, the config file, else the log key's name (the C2SP convention). */
export function resolveOrigin(flag: string | undefined, config: ConfigFile, logKey: string): string {
  return flag ?? config.origin ?? parseVerifierKey(logKey).name;
}

/** The ledger URL: the flag, else the config file, else a usage error. */
export function requireUrl(flag: string | undefined, config: ConfigFile, command: string): string {
  const url = flag ?? config.url;
  if (url === undefined) {
    throw new CliError('USAGE', `${command}: --url: required (or "url" in the config file)`);
  }
  return url;
}

/** Where verifier states and outboxes live: flag, config, $CIVIC_LEDGER_STATE_DIR, ~/.civic-ledger. */
export function resolveStateDir(io: Io, flag: string | undefined, config: ConfigFile): string {
  const dir = flag ?? config.stateDir ?? io.env['CIVIC_LEDGER_STATE_DIR'];
  return dir === undefined ? join(homedir(), '.civic-ledger') : resolve(io.cwd, dir);
}

/** The default state file of a log: one per origin, under the state directory. */
export function defaultStatePath(stateDir: string, origin: string): string {
  const slug = origin.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return join(stateDir, 'verifier', `${slug}-${sha256HexOfUtf8(origin).slice(0, 8)}.json`);
}
