// The monitor service's environment (see README): the ledger it follows (the query service's
// URL in distributed mode) and the log key pinned out of band (or, for a log whose key was
// rotated, a file of keys with their windows, read by the monitor library's parser), the witnesses to compare, the
// state file, and the NATS servers alerts and organization notifications are published on.
import { parseLogKeysFile } from '@civic-ledger/monitor';
import {
  busNamespace,
  envInt,
  logLevel,
  logOrigin,
  natsUrls,
  parseEnv,
  readConfigFile,
  verifierKeyText,
} from '@civic-ledger/service-config';
import { resolve } from 'node:path';
import { z } from 'zod';

const httpUrl = z.string().refine((s) => {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, 'an http(s):// URL');

const httpUrlList = z
  .string()
  .transform((s) => s.split(',').map((u) => u.trim()))
  .pipe(
    z
      .array(httpUrl.pipe(z.string()))
      .refine((l) => l.every((u) => u !== ''), 'http(s) URLs, comma-separated'),
  );

const KEY = 'CIVIC_LEDGER_LOG_KEY';
const KEYS_FILE = 'CIVIC_LEDGER_LOG_KEYS_FILE';
const given = (env: Record<string, unknown>, variable: string) => env[variable] !== undefined;

export const monitorEnvSchema = z
  .object({
    CIVIC_LEDGER_LEDGER_URL: httpUrl,
    /** Exactly one of CIVIC_LEDGER_LOG_KEY and CIVIC_LEDGER_LOG_KEYS_FILE. */
    CIVIC_LEDGER_LOG_KEY: verifierKeyText.transform((t) => t.trim()).optional(),
    /** A rotated log's keys with their windows: the CLI's --log-keys file format. */
    CIVIC_LEDGER_LOG_KEYS_FILE: z.string().min(1, 'a file path').optional(),
    /** Default: the log key's name (as the monitor library). */
    CIVIC_LEDGER_ORIGIN: logOrigin.optional(),
    /** A file holding the bearer token for the ledger's non-public routes (an oversight token). */
    CIVIC_LEDGER_TOKEN_FILE: z.string().min(1, 'a file path').optional(),
    CIVIC_LEDGER_WITNESS_URLS: httpUrlList.optional(),
    CIVIC_LEDGER_MONITOR_STATE_FILE: z.string().min(1),
    CIVIC_LEDGER_MONITOR_INTERVAL_MS: envInt(10, 3_600_000).default(2000),
    CIVIC_LEDGER_NATS_URL: natsUrls,
    CIVIC_LEDGER_NAMESPACE: busNamespace.optional(),
    CIVIC_LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
    CIVIC_LEDGER_PORT: envInt(0, 65535).default(8085),
    CIVIC_LEDGER_LOG_LEVEL: logLevel.default('info'),
    CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: envInt(0).default(6000),
    CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: envInt(0).default(10_000),
  })
  // Checked even when other variables are wrong (`when`), so one run names every problem.
  .check(
    z.refine((e) => given(e, KEY) || given(e, KEYS_FILE), {
      path: [KEY],
      message: `required (or ${KEYS_FILE}: a rotated log's keys with their windows)`,
      when: () => true,
    }),
    z.refine((e) => !(given(e, KEY) && given(e, KEYS_FILE)), {
      path: [KEYS_FILE],
      message: `give ${KEY} or ${KEYS_FILE}, not both`,
      when: () => true,
    }),
  );

const TOKEN_FILE = 'CIVIC_LEDGER_TOKEN_FILE';
/** A JWS compact token: three base64url parts (the ledger checks the rest). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

type LogKeyWindows = ReturnType<typeof parseLogKeysFile>;

export interface MonitorServiceConfig {
  ledgerUrl: string;
  /** The log's verifier key text, pinned; with logKeys, the last (current) one. */
  logKey: string;
  /** From CIVIC_LEDGER_LOG_KEYS_FILE: a rotated log's keys with their windows, oldest first. */
  logKeys: LogKeyWindows | undefined;
  origin: string | undefined;
  /** The bearer token read from CIVIC_LEDGER_TOKEN_FILE (a secret: never logged). */
  token: string | undefined;
  witnesses: string[];
  statePath: string;
  intervalMs: number;
  natsServers: string[];
  /** Prefix of every subject, so several logs can share the brokers. */
  namespace: string | undefined;
  host: string;
  port: number;
  logLevel: string;
  rateLimitPerMinute: number;
  shutdownTimeoutMs: number;
}

/** Reads the environment. Throws ConfigError (service-config) naming each wrong variable and its rule. */
export function loadMonitorConfig(
  env: Record<string, string | undefined> = process.env,
): MonitorServiceConfig {
  const e = parseEnv(monitorEnvSchema, env);
  const file = e.CIVIC_LEDGER_LOG_KEYS_FILE;
  const logKeys =
    file === undefined
      ? undefined
      : readConfigFile(KEYS_FILE, resolve(file), (bytes) => parseLogKeysFile(bytes.toString('utf8')));
  const tokenFile = e.CIVIC_LEDGER_TOKEN_FILE;
  const token =
    tokenFile === undefined
      ? undefined
      : readConfigFile(TOKEN_FILE, resolve(tokenFile), (bytes) => {
          const t = bytes.toString('utf8').trim();
          // The message names the rule, never the content.
          if (!TOKEN_SHAPE.test(t)) throw new Error('does not hold a token (<header>.<claims>.<signature>)');
          return t;
        });
  return {
    ledgerUrl: e.CIVIC_LEDGER_LEDGER_URL.replace(/\/+$/, ''),
    logKey: logKeys?.at(-1)!.key ?? e.CIVIC_LEDGER_LOG_KEY!,
    logKeys,
    origin: e.CIVIC_LEDGER_ORIGIN,
    token,
    witnesses: e.CIVIC_LEDGER_WITNESS_URLS ?? [],
    statePath: resolve(e.CIVIC_LEDGER_MONITOR_STATE_FILE),
    intervalMs: e.CIVIC_LEDGER_MONITOR_INTERVAL_MS,
    natsServers: e.CIVIC_LEDGER_NATS_URL,
    namespace: e.CIVIC_LEDGER_NAMESPACE,
    host: e.CIVIC_LEDGER_HOST,
    port: e.CIVIC_LEDGER_PORT,
    logLevel: e.CIVIC_LEDGER_LOG_LEVEL,
    rateLimitPerMinute: e.CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE,
    shutdownTimeoutMs: e.CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS,
  };
}
