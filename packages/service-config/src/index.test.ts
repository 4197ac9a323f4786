import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { brokerList, ConfigError, envInt, mongoUrl, natsUrls, parseEnv } from './index.ts';

const schema = z.object({
  A_PORT: envInt(0, 65535).default(8080),
  A_BROKERS: brokerList,
  A_NATS: natsUrls.optional(),
  A_MONGO: mongoUrl,
});

describe('parseEnv', () => {
  it('parses and transforms the shared variable kinds', () => {
    const c = parseEnv(schema, {
      A_BROKERS: '127.0.0.1:9092,k2:9093',
      A_MONGO: 'mongodb://127.0.0.1:27017/',
    });
    expect(c).toEqual({
      A_PORT: 8080,
      A_BROKERS: ['127.0.0.1:9092', 'k2:9093'],
      A_MONGO: 'mongodb://127.0.0.1:27017/',
    });
  });

  it('names every wrong variable and its rule, and says "required" for a missing one', () => {
    try {
      parseEnv(schema, { A_PORT: '99999', A_NATS: 'http://x', A_MONGO: 'mongodb://u:p@h/' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const issues = (e as ConfigError).issues;
      expect(issues.map((i) => i.variable).sort()).toEqual(['A_BROKERS', 'A_NATS', 'A_PORT']);
      expect(issues.find((i) => i.variable === 'A_BROKERS')?.rule).toBe('required');
      expect((e as ConfigError).message).toMatch(/A_NATS: nats:\/\/host:port/);
    }
  });
});
