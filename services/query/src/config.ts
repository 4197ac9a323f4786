// The query service's environment (see README).
import { resolve } from 'node:path';
import { parseVerifierKey, type VerifierKey } from '@civic-ledger/crypto';
import {
  busNamespace,
  ConfigError,
  databaseName,
  envInt,
  logLevel,
  logOrigin,
  mongoUrl,
  natsUrls,
  parseEnv,
  verifierKeyText,
} from '@civic-ledger/service-config';
import { z } from 'zod';

export const queryEnvSchema = z.object({
  CIVIC_LEDGER_NAMESPACE: busNamespace.optional(),
  CIVIC_LEDGER_MONGODB_URL: mongoUrl,
  CIVIC_LEDGER_MONGODB_DATABASE: databaseName.default('civic_ledger'),
  /** Optional: live notifications (/v1/notifications) come from NATS. */
  CIVIC_LEDGER_NATS_URL: natsUrls.optional(),
  CIVIC_LEDGER_ORIGIN: logOrigin.default('civic-ledger.localhost/log'),
  /** The log's public key (verifier key text): enables partial evidence bundles of lineage answers. */
  CIVIC_LEDGER_LOG_VERIFIER_KEY: verifierKeyText.optional(),
  CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: envInt(10).default(1000),
  CIVIC_LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
  CIVIC_LEDGER_PORT: envInt(0, 65535).default(8083),
  CIVIC_LEDGER_LOG_LEVEL: logLevel.default('info'),
  CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: envInt(0).default(6000),
  CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: envInt(0).default(10_000),
  /**
   * Read access: `tokens` serves only the public scope without a bearer token and writes every
   * non-public read to the access log; `off` serves every read to anyone (development).
   */
  CIVIC_LEDGER_ACCESS_CONTROL: z.enum(['off', 'tokens']).default('off'),
  /** With tokens: the issuer's public key (verifier key text); this service verifies, never issues. */
  CIVIC_LEDGER_TOKEN_ISSUER_KEY: verifierKeyText.optional(),
  /** With tokens: the access log (node:sqlite file); required, the service has no data dir. */
  CIVIC_LEDGER_ACCESS_LOG_FILE: z.string().min(1).optional(),
});

export interface QueryConfig {
  /** Prefix of every subject and topic, so several logs can share the brokers. */
  namespace: string | undefined;
  mongoUrl: string;
  database: string;
  natsServers: string[] | undefined;
  origin: string;
  /** The log's public key; bundles of lineage answers are offered when it is set. */
  logVerifierKey: string | undefined;
  checkpointWithinMs: number;
  host: string;
  port: number;
  logLevel: string;
  rateLimitPerMinute: number;
  shutdownTimeoutMs: number;
  /** Read access control with bearer tokens (off when absent). */
  access?: { issuerKey: VerifierKey; accessLogFile: string };
}

export function loadQueryConfig(env: Record<string, string | undefined> = process.env): QueryConfig {
  const e = parseEnv(queryEnvSchema, env);
  let access: QueryConfig['access'];
  if (e.CIVIC_LEDGER_ACCESS_CONTROL === 'tokens') {
    const { CIVIC_LEDGER_TOKEN_ISSUER_KEY: issuerKey, CIVIC_LEDGER_ACCESS_LOG_FILE: logFile } = e;
    const issues: { variable: string; rule: string }[] = [];
    if (issuerKey === undefined)
      issues.push({
        variable: 'CIVIC_LEDGER_TOKEN_ISSUER_KEY',
        rule: "required with CIVIC_LEDGER_ACCESS_CONTROL=tokens (the issuer's verifier key text)",
      });
    if (logFile === undefined)
      issues.push({
        variable: 'CIVIC_LEDGER_ACCESS_LOG_FILE',
        rule: 'required with CIVIC_LEDGER_ACCESS_CONTROL=tokens (a file path for the access log)',
      });
    if (issuerKey === undefined || logFile === undefined) throw new ConfigError(issues);
    access = { issuerKey: parseVerifierKey(issuerKey.trim()), accessLogFile: resolve(logFile) };
  }
  return {
    namespace: e.CIVIC_LEDGER_NAMESPACE,
    mongoUrl: e.CIVIC_LEDGER_MONGODB_URL,
    database: e.CIVIC_LEDGER_MONGODB_DATABASE,
    natsServers: e.CIVIC_LEDGER_NATS_URL,
    origin: e.CIVIC_LEDGER_ORIGIN,
    logVerifierKey: e.CIVIC_LEDGER_LOG_VERIFIER_KEY?.trim(),
    checkpointWithinMs: e.CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS,
    host: e.CIVIC_LEDGER_HOST,
    port: e.CIVIC_LEDGER_PORT,
    logLevel: e.CIVIC_LEDGER_LOG_LEVEL,
    rateLimitPerMinute: e.CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE,
    shutdownTimeoutMs: e.CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS,
    ...(access ? { access } : {}),
  };
}
