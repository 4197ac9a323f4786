import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { ConfigError } from '@civic-ledger/service-config';
import { describe, expect, it } from 'vitest';
import { loadSequencerConfig } from './config.ts';

const base = {
  CIVIC_LEDGER_MONGODB_URL: 'mongodb://127.0.0.1:27017/',
  CIVIC_LEDGER_KAFKA_BROKERS: '127.0.0.1:9092',
  CIVIC_LEDGER_NATS_URL: 'nats://127.0.0.1:4222',
  CIVIC_LEDGER_LOG_KEY_FILE: '/keys/log.key',
  CIVIC_LEDGER_OPERATOR_KEY: formatVerifierKey(generateSigningKey('ledger/k1')),
};

describe('sequencer configuration', () => {
  it('reads the stores, brokers and keys, and defaults the lease and batch', () => {
    const c = loadSequencerConfig(base);
    expect(c).toMatchObject({
      mongoUrl: 'mongodb://127.0.0.1:27017/',
      database: 'civic_ledger',
      logKeyFile: '/keys/log.key',
      leaseTtlMs: 10_000,
      maxBatch: 1000,
      maxWaitMs: 10_000,
    });
  });

  it('needs the log key file (every sequencer of a log signs with the same key)', () => {
    const { CIVIC_LEDGER_LOG_KEY_FILE: _, ...rest } = base;
    expect(() => loadSequencerConfig(rest)).toThrow(ConfigError);
    expect(() => loadSequencerConfig(rest)).toThrow(/CIVIC_LEDGER_LOG_KEY_FILE: required/);
  });

  it('refuses a lease shorter than a second and a batch beyond the ledger maximum', () => {
    expect(() =>
      loadSequencerConfig({ ...base, CIVIC_LEDGER_LEASE_TTL_MS: '10', CIVIC_LEDGER_MAX_BATCH: '9000' }),
    ).toThrow(/CIVIC_LEDGER_LEASE_TTL_MS.*\n.*CIVIC_LEDGER_MAX_BATCH/);
  });
});
