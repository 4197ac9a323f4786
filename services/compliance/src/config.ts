// The compliance service's environment (see README): where the log is (MongoDB), where
// findings go (Kafka, as the ingest service submits) and where outcomes and alerts travel
// (NATS), the compliance organization's key, and how often the retention monitor runs.
import { readSigningKeyFile, type SigningKey } from '@civic-ledger/crypto';
import { orgId } from '@civic-ledger/schemas';
import {
  brokerList,
  busNamespace,
  ConfigError,
  databaseName,
  envInt,
  logLevel,
  logOrigin,
  mongoUrl,
  natsUrls,
  parseEnv,
} from '@civic-ledger/service-config';
import { resolve } from 'node:path';
import { z } from 'zod';

export const complianceEnvSchema = z.object({
  CIVIC_LEDGER_NAMESPACE: busNamespace.optional(),
  CIVIC_LEDGER_MONGODB_URL: mongoUrl,
  CIVIC_LEDGER_MONGODB_DATABASE: databaseName.default('civic_ledger'),
  CIVIC_LEDGER_KAFKA_BROKERS: brokerList,
  CIVIC_LEDGER_NATS_URL: natsUrls,
  /** The compliance organization's signing key file (0600), registered on the ledger. */
  CIVIC_LEDGER_COMPLIANCE_KEY_FILE: z.string().min(1),
  /** The compliance organization (default: the key's organization). */
  CIVIC_LEDGER_COMPLIANCE_ORG: orgId.optional(),
  CIVIC_LEDGER_RETENTION_INTERVAL_MS: envInt(0).default(60_000),
  CIVIC_LEDGER_POLL_INTERVAL_MS: envInt(10).default(1000),
  CIVIC_LEDGER_SUBMIT_TIMEOUT_MS: envInt(100, 600_000).default(30_000),
  CIVIC_LEDGER_SUBMISSION_PARTITIONS: envInt(1, 1000).default(6),
  CIVIC_LEDGER_ORIGIN: logOrigin.default('civic-ledger.localhost/log'),
  CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: envInt(10).default(1000),
  CIVIC_LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
  CIVIC_LEDGER_PORT: envInt(0, 65535).default(8084),
  CIVIC_LEDGER_LOG_LEVEL: logLevel.default('info'),
  CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: envInt(0).default(6000),
  CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: envInt(0).default(10_000),
});

export interface ComplianceConfig {
  /** Prefix of every subject and topic, so several logs can share the brokers. */
  namespace: string | undefined;
  mongoUrl: string;
  database: string;
  kafkaBrokers: string[];
  natsServers: string[];
  key: SigningKey;
  keyFile: string;
  org: string;
  /** Retention monitor period (0: off). */
  retentionIntervalMs: number;
  /** How often the log's head is read again (NATS `appended` notifications also wake it). */
  pollIntervalMs: number;
  /** How long a submitted finding waits for the sequencer's outcome before it is sent again. */
  submitTimeoutMs: number;
  partitions: number;
  origin: string;
  checkpointWithinMs: number;
  host: string;
  port: number;
  logLevel: string;
  rateLimitPerMinute: number;
  shutdownTimeoutMs: number;
}

/** Reads the environment and the key file. Throws ConfigError naming the variable and the rule. */
export function loadComplianceConfig(
  env: Record<string, string | undefined> = process.env,
): ComplianceConfig {
  const e = parseEnv(complianceEnvSchema, env);
  const keyFile = resolve(e.CIVIC_LEDGER_COMPLIANCE_KEY_FILE);
  let key: SigningKey;
  try {
    key = readSigningKeyFile(keyFile);
  } catch (cause) {
    throw new ConfigError([
      {
        variable: 'CIVIC_LEDGER_COMPLIANCE_KEY_FILE',
        rule: `a readable Ed25519 key file, mode 0600 (${(cause as Error).message})`,
      },
    ]);
  }
  const org = e.CIVIC_LEDGER_COMPLIANCE_ORG ?? key.name.split('/')[0]!;
  if (!key.name.startsWith(`${org}/`)) {
    throw new ConfigError([
      {
        variable: 'CIVIC_LEDGER_COMPLIANCE_ORG',
        rule: `the organization of the key (${key.name}), not ${org}`,
      },
    ]);
  }
  return {
    namespace: e.CIVIC_LEDGER_NAMESPACE,
    mongoUrl: e.CIVIC_LEDGER_MONGODB_URL,
    database: e.CIVIC_LEDGER_MONGODB_DATABASE,
    kafkaBrokers: e.CIVIC_LEDGER_KAFKA_BROKERS,
    natsServers: e.CIVIC_LEDGER_NATS_URL,
    key,
    keyFile,
    org,
    retentionIntervalMs: e.CIVIC_LEDGER_RETENTION_INTERVAL_MS,
    pollIntervalMs: e.CIVIC_LEDGER_POLL_INTERVAL_MS,
    submitTimeoutMs: e.CIVIC_LEDGER_SUBMIT_TIMEOUT_MS,
    partitions: e.CIVIC_LEDGER_SUBMISSION_PARTITIONS,
    origin: e.CIVIC_LEDGER_ORIGIN,
    checkpointWithinMs: e.CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS,
    host: e.CIVIC_LEDGER_HOST,
    port: e.CIVIC_LEDGER_PORT,
    logLevel: e.CIVIC_LEDGER_LOG_LEVEL,
    rateLimitPerMinute: e.CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE,
    shutdownTimeoutMs: e.CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS,
  };
}
