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
import type { Policy } from '@civic-ledger/witness';
import { z } from 'zod';
import { loadWitnessPolicy } from './witnesses.ts';

export const queryEnvSchema = z.object({
  CIVIC_LEDGER_NAMESPACE: busNamespace.optional(),
  CIVIC_LEDGER_MONGODB_URL: mongoUrl,
  CIVIC_LEDGER_MONGODB_DATABASE: databaseName.default('civic_ledger'),
  /** Optional: live notifications (/v1/notifications) come from NATS. */
  CIVIC_LEDGER_NATS_URL: natsUrls.optional(),
  CIVIC_LEDGER_ORIGIN: logOrigin.default('civic-ledger.localhost/log'),
  /** The log's public key (verifier key text): enables partial evidence bundles of lineage answers. */
  CIVIC_LEDGER_LOG_VERIFIER_KEY: verifierKeyText.optional(),
  /** The witness policy the sequencer uses: GET /v1/checkpoints/latest/witnesses checks against it. */
  CIVIC_LEDGER_WITNESS_POLICY_FILE: z.string().min(1).optional(),
  CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: envInt(10).default(1000),
  CIVIC_LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
  CIVIC_LEDGER_PORT: envInt(0, 65535).default(8083),
  CIVIC_LEDGER_LOG_LEVEL: logLevel.default('info'),
  CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: envInt(0).default(6000),
  CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: envInt(0).default(10_000),
  /**
   * Read access: `tokens` (the default) serves only the public scope without a bearer token and
   * writes every non-public read to the access log; `off` serves every read to anyone
   * (development only, set explicitly; the service warns at start).
   */
  CIVIC_LEDGER_ACCESS_CONTROL: z.enum(['off', 'tokens']).default('tokens'),
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
  /** Read access control with bearer tokens (the default; absent only with CIVIC_LEDGER_ACCESS_CONTROL=off). */
  access?: { issuerKey: VerifierKey; accessLogFile: string };
  /** The witness policy (its file read and checked at start), when configured. */
  witnessPolicy?: Policy;
}

/** What to do about a variable that access control needs (it is on unless turned off explicitly). */
const WITHOUT_TOKENS = 'or set CIVIC_LEDGER_ACCESS_CONTROL=off for development (every read open to anyone)';

/**
 * The variables tokens need and are missing, each saying how to get it. Read access control is
 * on by default, so a bare start fails here, and the message must get the operator going.
 */
function missingAccessVariables(
  env: Record<string, string | undefined>,
): { variable: string; rule: string }[] {
  const issues: { variable: string; rule: string }[] = [];
  if (env['CIVIC_LEDGER_TOKEN_ISSUER_KEY'] === undefined)
    issues.push({
      variable: 'CIVIC_LEDGER_TOKEN_ISSUER_KEY',
      rule:
        "required with CIVIC_LEDGER_ACCESS_CONTROL=tokens (the default): the token issuer's verifier key text " +
        '(`civic-ledger keygen --name ledger/token-issuer --out token-issuer.key` prints it; keep the private ' +
        'key where tokens are issued, never here), ' +
        WITHOUT_TOKENS,
    });
  if (env['CIVIC_LEDGER_ACCESS_LOG_FILE'] === undefined)
    issues.push({
      variable: 'CIVIC_LEDGER_ACCESS_LOG_FILE',
      rule:
        "required with CIVIC_LEDGER_ACCESS_CONTROL=tokens (the default): a file path for this instance's " +
        'access log, on storage that outlives the process (created with its folder), ' +
        WITHOUT_TOKENS,
    });
  return issues;
}

export function loadQueryConfig(env: Record<string, string | undefined> = process.env): QueryConfig {
  // Every problem at once: a wrong variable elsewhere and a missing issuer key are both named.
  const tokens = (env['CIVIC_LEDGER_ACCESS_CONTROL'] ?? 'tokens') === 'tokens';
  const missing = tokens ? missingAccessVariables(env) : [];
  let e: z.output<typeof queryEnvSchema>;
  try {
    e = parseEnv(queryEnvSchema, env);
  } catch (err) {
    if (err instanceof ConfigError && missing.length > 0) throw new ConfigError([...err.issues, ...missing]);
    throw err;
  }
  if (missing.length > 0) throw new ConfigError(missing);
  let access: QueryConfig['access'];
  if (e.CIVIC_LEDGER_ACCESS_CONTROL === 'tokens') {
    const { CIVIC_LEDGER_TOKEN_ISSUER_KEY: issuerKey, CIVIC_LEDGER_ACCESS_LOG_FILE: logFile } = e;
    // Both present: missingAccessVariables saw them, and the schema refuses an empty one.
    access = { issuerKey: parseVerifierKey(issuerKey!.trim()), accessLogFile: resolve(logFile!) };
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
    ...(e.CIVIC_LEDGER_WITNESS_POLICY_FILE === undefined
      ? {}
      : {
          witnessPolicy: loadWitnessPolicy(
            resolve(e.CIVIC_LEDGER_WITNESS_POLICY_FILE),
            e.CIVIC_LEDGER_ORIGIN,
          ),
        }),
  };
}
