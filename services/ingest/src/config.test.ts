import { ConfigError } from '@civic-ledger/service-config';
import { describe, expect, it } from 'vitest';
import { loadIngestConfig } from './config.ts';

describe('ingest configuration', () => {
  it('reads the brokers and defaults the rest', () => {
    const c = loadIngestConfig({
      CIVIC_LEDGER_KAFKA_BROKERS: '127.0.0.1:9092',
      CIVIC_LEDGER_NATS_URL: 'nats://127.0.0.1:4222',
    });
    expect(c).toMatchObject({
      kafkaBrokers: ['127.0.0.1:9092'],
      natsServers: ['nats://127.0.0.1:4222'],
      host: '127.0.0.1',
      port: 8081,
      maxWaitMs: 30_000,
      namespace: undefined,
    });
  });

  it('refuses a missing broker and a bad namespace, naming each variable', () => {
    try {
      loadIngestConfig({
        CIVIC_LEDGER_NATS_URL: 'nats://127.0.0.1:4222',
        CIVIC_LEDGER_NAMESPACE: 'Bad Name',
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
        'CIVIC_LEDGER_KAFKA_BROKERS',
        'CIVIC_LEDGER_NAMESPACE',
      ]);
    }
  });
});
