// The witness service's environment (see README). Files named by the environment are read
// here, once: a missing or wrong file is a ConfigError naming the variable, so main exits 1
// with a readable message.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  generateSigningKey,
  isValidKeyName,
  readSigningKeyFile,
  writeSigningKeyFile,
  type SigningKey,
} from '@civic-ledger/crypto';
import { ConfigError, envInt, logLevel, parseEnv } from '@civic-ledger/service-config';
import { knownLogsFromPolicy, parsePolicy, type KnownLog } from '@civic-ledger/witness';
import { z } from 'zod';

export const witnessEnvSchema = z.object({
  /** The witness's Ed25519 private key file (PRIVATE+KEY+ text, mode 0600). */
  CIVIC_LEDGER_WITNESS_KEY_FILE: z.string().min(1),
  /** Cosigner name on its signature lines (default: the key's name); needed to create a key. */
  CIVIC_LEDGER_WITNESS_NAME: z
    .string()
    .refine(isValidKeyName, 'a key name: no white space, no "+"')
    .optional(),
  /** The logs it cosigns for: c2sp.org/tlog-policy lines (only the log lines are used). */
  CIVIC_LEDGER_WITNESS_LOGS_FILE: z.string().min(1),
  /** Its state (SQLite file, created if missing). Losing it means retiring the witness key. */
  CIVIC_LEDGER_WITNESS_DB: z.string().min(1),
  CIVIC_LEDGER_WITNESS_MAX_BODY_BYTES: envInt(1024, 1 << 20).default(64 * 1024),
  CIVIC_LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
  CIVIC_LEDGER_PORT: envInt(0, 65535).default(8084),
  CIVIC_LEDGER_LOG_LEVEL: logLevel.default('info'),
  CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: envInt(0).default(10_000),
});

export interface WitnessServiceConfig {
  /** The witness key (never logged). */
  key: SigningKey;
  /** Cosigner name (default: the key's name). */
  name?: string;
  /** The logs it cosigns for. */
  logs: KnownLog[];
  dbPath: string;
  host: string;
  port: number;
  logLevel: string;
  bodyLimit: number;
  shutdownTimeoutMs: number;
  /** Set when this start created the key file (main logs its verifier key). */
  keyCreated?: boolean;
}

function readKey(path: string, name: string | undefined): { key: SigningKey; created: boolean } {
  const variable = 'CIVIC_LEDGER_WITNESS_KEY_FILE';
  if (!existsSync(path)) {
    if (name === undefined) {
      throw new ConfigError([
        {
          variable,
          rule: `${path} does not exist (set CIVIC_LEDGER_WITNESS_NAME to create a new witness key there)`,
        },
      ]);
    }
    mkdirSync(dirname(path), { recursive: true });
    const key = generateSigningKey(name);
    writeSigningKeyFile(path, key);
    return { key, created: true };
  }
  try {
    return { key: readSigningKeyFile(path), created: false };
  } catch (e) {
    throw new ConfigError([
      { variable, rule: `a readable Ed25519 key file, mode 0600 (${(e as Error).message})` },
    ]);
  }
}

function readLogs(path: string): KnownLog[] {
  const variable = 'CIVIC_LEDGER_WITNESS_LOGS_FILE';
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    throw new ConfigError([{ variable, rule: `a readable file (${(e as Error).message})` }]);
  }
  let logs: KnownLog[];
  try {
    logs = knownLogsFromPolicy(parsePolicy(text, { requireQuorum: false }));
  } catch (e) {
    throw new ConfigError([{ variable, rule: `a tlog-policy file: ${(e as Error).message}` }]);
  }
  if (logs.length === 0)
    throw new ConfigError([{ variable, rule: 'at least one "log <verifier key>" line' }]);
  return logs;
}

/** Reads the environment and the files it names. Throws ConfigError naming the variable. */
export function loadWitnessConfig(
  env: Record<string, string | undefined> = process.env,
): WitnessServiceConfig {
  const e = parseEnv(witnessEnvSchema, env);
  const logs = readLogs(e.CIVIC_LEDGER_WITNESS_LOGS_FILE);
  const { key, created } = readKey(e.CIVIC_LEDGER_WITNESS_KEY_FILE, e.CIVIC_LEDGER_WITNESS_NAME);
  return {
    key,
    ...(e.CIVIC_LEDGER_WITNESS_NAME === undefined ? {} : { name: e.CIVIC_LEDGER_WITNESS_NAME }),
    logs,
    dbPath: e.CIVIC_LEDGER_WITNESS_DB,
    host: e.CIVIC_LEDGER_HOST,
    port: e.CIVIC_LEDGER_PORT,
    logLevel: e.CIVIC_LEDGER_LOG_LEVEL,
    bodyLimit: e.CIVIC_LEDGER_WITNESS_MAX_BODY_BYTES,
    shutdownTimeoutMs: e.CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS,
    keyCreated: created,
  };
}
