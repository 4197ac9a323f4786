// The monitor service's environment (see README): the ledger it follows (the query service's
// URL in distributed mode) and the log key pinned out of band, the witnesses to compare, the
// state file, and the NATS servers alerts and organization notifications are published on.
import {
  busNamespace,
  envInt,
  logLevel,
  logOrigin,
  natsUrls,
  parseEnv,
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

export const monitorEnvSchema = z.object({
  CIVIC_LEDGER_LEDGER_URL: httpUrl,
  CIVIC_LEDGER_LOG_KEY: verifierKeyText.transform((t) => t.trim()),
  /** Default: the log key's name (as the monitor library). */
  CIVIC_LEDGER_ORIGIN: logOrigin.optional(),
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
});

export interface MonitorServiceConfig {
  ledgerUrl: string;
  /** The log's verifier key text, pinned. */
  logKey: string;
  origin: string | undefined;
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
  return {
    ledgerUrl: e.CIVIC_LEDGER_LEDGER_URL.replace(/\/+$/, ''),
    logKey: e.CIVIC_LEDGER_LOG_KEY,
    origin: e.CIVIC_LEDGER_ORIGIN,
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
