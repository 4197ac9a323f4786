// The ingest service's environment (see README): where Kafka and NATS are, where to listen.
import {
  brokerList,
  busNamespace,
  envInt,
  logLevel,
  logOrigin,
  natsUrls,
  parseEnv,
} from '@civic-ledger/service-config';
import { z } from 'zod';

export const ingestEnvSchema = z.object({
  CIVIC_LEDGER_NAMESPACE: busNamespace.optional(),
  CIVIC_LEDGER_KAFKA_BROKERS: brokerList,
  CIVIC_LEDGER_NATS_URL: natsUrls,
  CIVIC_LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
  CIVIC_LEDGER_PORT: envInt(0, 65535).default(8081),
  CIVIC_LEDGER_ORIGIN: logOrigin.default('civic-ledger.localhost/log'),
  CIVIC_LEDGER_SUBMISSION_PARTITIONS: envInt(1, 1000).default(6),
  CIVIC_LEDGER_MAX_RECEIPT_WAIT_MS: envInt(0, 60_000).default(30_000),
  CIVIC_LEDGER_LOG_LEVEL: logLevel.default('info'),
  CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: envInt(0).default(6000),
  CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: envInt(0).default(6000),
  CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: envInt(0).default(10_000),
});

export interface IngestConfig {
  /** Prefix of every subject and topic, so several logs can share the brokers. */
  namespace: string | undefined;
  kafkaBrokers: string[];
  natsServers: string[];
  host: string;
  port: number;
  origin: string;
  /** Partitions of the submissions topic when this service creates it. */
  partitions: number;
  /** Longest `?wait=` a caller may ask for (ms). */
  maxWaitMs: number;
  logLevel: string;
  rateLimitPerMinute: number;
  keyRateLimitPerMinute: number;
  shutdownTimeoutMs: number;
}

export function loadIngestConfig(env: Record<string, string | undefined> = process.env): IngestConfig {
  const e = parseEnv(ingestEnvSchema, env);
  return {
    namespace: e.CIVIC_LEDGER_NAMESPACE,
    kafkaBrokers: e.CIVIC_LEDGER_KAFKA_BROKERS,
    natsServers: e.CIVIC_LEDGER_NATS_URL,
    host: e.CIVIC_LEDGER_HOST,
    port: e.CIVIC_LEDGER_PORT,
    origin: e.CIVIC_LEDGER_ORIGIN,
    partitions: e.CIVIC_LEDGER_SUBMISSION_PARTITIONS,
    maxWaitMs: e.CIVIC_LEDGER_MAX_RECEIPT_WAIT_MS,
    logLevel: e.CIVIC_LEDGER_LOG_LEVEL,
    rateLimitPerMinute: e.CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE,
    keyRateLimitPerMinute: e.CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE,
    shutdownTimeoutMs: e.CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS,
  };
}
