// Configuration from the environment, validated once with zod. A wrong value is reported
// naming the variable and the rule; main.ts prints it and exits 1.
import { resolve } from 'node:path';
import {
  ConfigError,
  envInt as int,
  logLevel,
  logOrigin,
  parseEnv,
  readConfigFile,
  verifierKeyText,
} from '@civic-ledger/service-config';
import { parsePolicy, type Policy } from '@civic-ledger/witness';
import { z } from 'zod';

export { ConfigError };

/** Every variable the service reads, with its default. */
export const envSchema = z.object({
  CIVIC_LEDGER_DATA_DIR: z.string().min(1).default('./data'),
  CIVIC_LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
  CIVIC_LEDGER_PORT: int(0, 65535).default(8080),
  CIVIC_LEDGER_ORIGIN: logOrigin.default('civic-ledger.localhost/log'),
  CIVIC_LEDGER_LOG_KEY_FILE: z.string().min(1).optional(),
  /** Log key rotation: the next log key's private key file (must exist); while set, checkpoints carry both. */
  CIVIC_LEDGER_NEXT_LOG_KEY_FILE: z.string().min(1).optional(),
  CIVIC_LEDGER_OPERATOR_KEY: verifierKeyText,
  CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: int(1).default(1000),
  CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: int(10).default(1000),
  CIVIC_LEDGER_LOG_LEVEL: logLevel.default('info'),
  CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: int(0).default(6000),
  CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: int(0).default(6000),
  CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: int(0).default(10_000),
  /** OpenLineage ingest: a JSON file of pipelines ({ token, ...mapping }); off when unset. */
  CIVIC_LEDGER_OPENLINEAGE_PIPELINES_FILE: z.string().min(1).optional(),
  /** The gateway's private key file (signs the derive events it attests). */
  CIVIC_LEDGER_OPENLINEAGE_GATEWAY_KEY_FILE: z.string().min(1).optional(),
  /** Witnesses: a tlog-policy file (which witnesses, their URLs, the quorum); off when unset. */
  CIVIC_LEDGER_WITNESS_POLICY_FILE: z.string().min(1).optional(),
  /** With witnesses: the cadence of checkpoints. */
  CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: int(10, 3_600_000).default(1000),
  /** With witnesses: how long each witness gets per checkpoint (a 409 retry included). */
  CIVIC_LEDGER_WITNESS_TIMEOUT_MS: int(10, 600_000).default(2000),
  /**
   * Read access: `tokens` (the default) serves only the public scope without a bearer token and
   * writes every non-public read to the access log; `off` serves every read to anyone
   * (development only, set explicitly; the service warns at start).
   */
  CIVIC_LEDGER_ACCESS_CONTROL: z.enum(['off', 'tokens']).default('tokens'),
  /** With tokens: the token issuer's private key file (created on first start). */
  CIVIC_LEDGER_TOKEN_ISSUER_KEY_FILE: z.string().min(1).optional(),
  /** With tokens: the access log (node:sqlite file, hash-chained, append-only). */
  CIVIC_LEDGER_ACCESS_LOG_FILE: z.string().min(1).optional(),
  /**
   * The compliance service's private key file (a key registered to an organization of role
   * compliance): evaluates every appended event and records findings; off when unset.
   */
  CIVIC_LEDGER_COMPLIANCE_KEY_FILE: z.string().min(1).optional(),
  /** With compliance: how often the retention monitor looks for overdue deletions (0 = never). */
  CIVIC_LEDGER_RETENTION_INTERVAL_MS: int(0).default(60_000),
});

export interface ServiceConfig {
  dataDir: string;
  host: string;
  port: number;
  origin: string;
  /** Private log key file (PRIVATE+KEY+ text, mode 0600); created on first start if missing. */
  logKeyFile: string;
  /**
   * Rotation overlap: the next log key's private key file (must exist, mode 0600). Every
   * checkpoint is signed by the current and the next key; receipts by the current one only.
   */
  nextLogKeyFile?: string;
  /** The operator's first key (verifier key text): the trust anchor of the first event. */
  operatorKey: string;
  checkpoints: { maxEntries: number; maxDelayMs: number };
  logLevel: string;
  /** 0 = no limit. */
  rateLimitPerMinute: number;
  keyRateLimitPerMinute: number;
  shutdownTimeoutMs: number;
  /** OpenLineage ingest (POST /api/v1/lineage), when both files are configured. */
  openLineage?: { pipelinesFile: string; gatewayKeyFile: string };
  /** Witnessed checkpoints, when a policy file is configured (checked against the log key at start). */
  witnessing?: { policyFile: string; policy: Policy; intervalMs: number; timeoutMs: number };
  /** Read access control with bearer tokens (the default; absent only with CIVIC_LEDGER_ACCESS_CONTROL=off). */
  access?: { issuerKeyFile: string; accessLogFile: string };
  /** The compliance runner (findings, decisions), when a compliance key file is configured. */
  compliance?: { keyFile: string; retentionIntervalMs: number };
}

/** Reads and parses the witness policy; a wrong file names the variable (and the policy line). */
const loadPolicy = (path: string): Policy =>
  readConfigFile('CIVIC_LEDGER_WITNESS_POLICY_FILE', path, parsePolicy, 'tlog-policy file');

export function loadConfig(env: Record<string, string | undefined> = process.env): ServiceConfig {
  const e = parseEnv(envSchema, env);
  const pipelines = e.CIVIC_LEDGER_OPENLINEAGE_PIPELINES_FILE;
  const gatewayKey = e.CIVIC_LEDGER_OPENLINEAGE_GATEWAY_KEY_FILE;
  if ((pipelines === undefined) !== (gatewayKey === undefined)) {
    const missing =
      pipelines === undefined
        ? 'CIVIC_LEDGER_OPENLINEAGE_PIPELINES_FILE'
        : 'CIVIC_LEDGER_OPENLINEAGE_GATEWAY_KEY_FILE';
    throw new ConfigError([
      { variable: missing, rule: 'required when the other OpenLineage variable is set' },
    ]);
  }
  const dataDir = resolve(e.CIVIC_LEDGER_DATA_DIR);
  const policyFile = e.CIVIC_LEDGER_WITNESS_POLICY_FILE && resolve(e.CIVIC_LEDGER_WITNESS_POLICY_FILE);
  return {
    dataDir,
    host: e.CIVIC_LEDGER_HOST,
    port: e.CIVIC_LEDGER_PORT,
    origin: e.CIVIC_LEDGER_ORIGIN,
    logKeyFile: resolve(e.CIVIC_LEDGER_LOG_KEY_FILE ?? `${dataDir}/log.key`),
    ...(e.CIVIC_LEDGER_NEXT_LOG_KEY_FILE === undefined
      ? {}
      : { nextLogKeyFile: resolve(e.CIVIC_LEDGER_NEXT_LOG_KEY_FILE) }),
    operatorKey: e.CIVIC_LEDGER_OPERATOR_KEY.trim(),
    checkpoints: {
      maxEntries: e.CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES,
      maxDelayMs: e.CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS,
    },
    logLevel: e.CIVIC_LEDGER_LOG_LEVEL,
    rateLimitPerMinute: e.CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE,
    keyRateLimitPerMinute: e.CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE,
    shutdownTimeoutMs: e.CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS,
    ...(pipelines !== undefined && gatewayKey !== undefined
      ? { openLineage: { pipelinesFile: resolve(pipelines), gatewayKeyFile: resolve(gatewayKey) } }
      : {}),
    ...(e.CIVIC_LEDGER_COMPLIANCE_KEY_FILE === undefined
      ? {}
      : {
          compliance: {
            keyFile: resolve(e.CIVIC_LEDGER_COMPLIANCE_KEY_FILE),
            retentionIntervalMs: e.CIVIC_LEDGER_RETENTION_INTERVAL_MS,
          },
        }),
    ...(e.CIVIC_LEDGER_ACCESS_CONTROL === 'tokens'
      ? {
          access: {
            issuerKeyFile: resolve(e.CIVIC_LEDGER_TOKEN_ISSUER_KEY_FILE ?? `${dataDir}/token-issuer.key`),
            accessLogFile: resolve(e.CIVIC_LEDGER_ACCESS_LOG_FILE ?? `${dataDir}/access-log.db`),
          },
        }
      : {}),
    ...(policyFile === undefined
      ? {}
      : {
          witnessing: {
            policyFile,
            policy: loadPolicy(policyFile),
            intervalMs: e.CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS,
            timeoutMs: e.CIVIC_LEDGER_WITNESS_TIMEOUT_MS,
          },
        }),
  };
}
