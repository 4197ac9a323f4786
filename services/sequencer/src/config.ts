// The sequencer's environment (see README). The log key file must exist (made once with
// `civic-ledger keygen`) and be the same for every sequencer of a log: a standby that takes
// over signs with the same key (so must the next log key of a rotation, when set). A witness
// policy file turns on witnessed checkpoints: only checkpoints cosigned to the policy's quorum are stored (and so served by the query service).
import {
  brokerList,
  busNamespace,
  databaseName,
  envInt,
  logLevel,
  logOrigin,
  mongoUrl,
  natsUrls,
  parseEnv,
  readConfigFile,
  verifierKeyText,
} from '@civic-ledger/service-config';
import { parsePolicy, type Policy } from '@civic-ledger/witness';
import { resolve } from 'node:path';
import { z } from 'zod';

export const sequencerEnvSchema = z.object({
  CIVIC_LEDGER_NAMESPACE: busNamespace.optional(),
  CIVIC_LEDGER_MONGODB_URL: mongoUrl,
  CIVIC_LEDGER_MONGODB_DATABASE: databaseName.default('civic_ledger'),
  CIVIC_LEDGER_KAFKA_BROKERS: brokerList,
  CIVIC_LEDGER_NATS_URL: natsUrls,
  CIVIC_LEDGER_ORIGIN: logOrigin.default('civic-ledger.localhost/log'),
  CIVIC_LEDGER_LOG_KEY_FILE: z.string().min(1),
  /** Log key rotation: the next log key's private key file (must exist); while set, checkpoints carry both. */
  CIVIC_LEDGER_NEXT_LOG_KEY_FILE: z.string().min(1).optional(),
  CIVIC_LEDGER_OPERATOR_KEY: verifierKeyText,
  CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: envInt(1).default(1000),
  CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: envInt(10).default(1000),
  /** Witnesses: a tlog-policy file (which witnesses, their URLs, the quorum); off when unset. */
  CIVIC_LEDGER_WITNESS_POLICY_FILE: z.string().min(1).optional(),
  /** With witnesses: the cadence of checkpoints. */
  CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: envInt(10, 3_600_000).default(1000),
  /** With witnesses: how long each witness gets per checkpoint (a 409 retry included). */
  CIVIC_LEDGER_WITNESS_TIMEOUT_MS: envInt(10, 600_000).default(2000),
  CIVIC_LEDGER_LEASE_TTL_MS: envInt(1000).default(10_000),
  CIVIC_LEDGER_MAX_BATCH: envInt(1, 5000).default(1000),
  CIVIC_LEDGER_DEPENDENCY_WAIT_MS: envInt(0).default(10_000),
  CIVIC_LEDGER_SUBMISSION_PARTITIONS: envInt(1, 1000).default(6),
  CIVIC_LEDGER_KAFKA_SESSION_TIMEOUT_MS: envInt(6000).default(10_000),
  CIVIC_LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
  CIVIC_LEDGER_PORT: envInt(0, 65535).default(8082),
  CIVIC_LEDGER_LOG_LEVEL: logLevel.default('info'),
});

export interface SequencerConfig {
  /** Prefix of every subject and topic, so several logs can share the brokers. */
  namespace: string | undefined;
  mongoUrl: string;
  database: string;
  kafkaBrokers: string[];
  natsServers: string[];
  origin: string;
  logKeyFile: string;
  /**
   * Rotation overlap: the next log key's private key file (checked at start: must exist, mode
   * 0600, the log key's name, another key). Every checkpoint is signed by the current and the
   * next key; receipts by the current one only.
   */
  nextLogKeyFile?: string;
  operatorKey: string;
  checkpoints: { maxEntries: number; maxDelayMs: number };
  /** Witnessed checkpoints, when a policy file is configured (checked against the log key at start). */
  witnessing?: { policyFile: string; policy: Policy; intervalMs: number; timeoutMs: number };
  leaseTtlMs: number;
  maxBatch: number;
  maxWaitMs: number;
  partitions: number;
  kafkaSessionTimeoutMs: number;
  /** The operations endpoint: /healthz, /readyz, /metrics, /v1/checkpoints/latest/witnesses. */
  host: string;
  port: number;
  logLevel: string;
}

/** Reads and parses the witness policy; a wrong file names the variable (and the policy line). */
const loadPolicy = (path: string): Policy =>
  readConfigFile('CIVIC_LEDGER_WITNESS_POLICY_FILE', path, parsePolicy, 'tlog-policy file');

export function loadSequencerConfig(env: Record<string, string | undefined> = process.env): SequencerConfig {
  const e = parseEnv(sequencerEnvSchema, env);
  const policyFile = e.CIVIC_LEDGER_WITNESS_POLICY_FILE && resolve(e.CIVIC_LEDGER_WITNESS_POLICY_FILE);
  return {
    namespace: e.CIVIC_LEDGER_NAMESPACE,
    mongoUrl: e.CIVIC_LEDGER_MONGODB_URL,
    database: e.CIVIC_LEDGER_MONGODB_DATABASE,
    kafkaBrokers: e.CIVIC_LEDGER_KAFKA_BROKERS,
    natsServers: e.CIVIC_LEDGER_NATS_URL,
    origin: e.CIVIC_LEDGER_ORIGIN,
    logKeyFile: resolve(e.CIVIC_LEDGER_LOG_KEY_FILE),
    ...(e.CIVIC_LEDGER_NEXT_LOG_KEY_FILE === undefined
      ? {}
      : { nextLogKeyFile: resolve(e.CIVIC_LEDGER_NEXT_LOG_KEY_FILE) }),
    operatorKey: e.CIVIC_LEDGER_OPERATOR_KEY.trim(),
    checkpoints: {
      maxEntries: e.CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES,
      maxDelayMs: e.CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS,
    },
    leaseTtlMs: e.CIVIC_LEDGER_LEASE_TTL_MS,
    maxBatch: e.CIVIC_LEDGER_MAX_BATCH,
    maxWaitMs: e.CIVIC_LEDGER_DEPENDENCY_WAIT_MS,
    partitions: e.CIVIC_LEDGER_SUBMISSION_PARTITIONS,
    kafkaSessionTimeoutMs: e.CIVIC_LEDGER_KAFKA_SESSION_TIMEOUT_MS,
    host: e.CIVIC_LEDGER_HOST,
    port: e.CIVIC_LEDGER_PORT,
    logLevel: e.CIVIC_LEDGER_LOG_LEVEL,
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
