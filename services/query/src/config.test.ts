import { ConfigError } from '@civic-ledger/service-config';
import { describe, expect, it } from 'vitest';
import { loadQueryConfig } from './config.ts';

describe('query configuration', () => {
  it('needs only the store; NATS is optional (live notifications)', () => {
    const c = loadQueryConfig({ CIVIC_LEDGER_MONGODB_URL: 'mongodb://127.0.0.1:27017/' });
    expect(c).toMatchObject({ database: 'civic_ledger', natsServers: undefined, port: 8083 });
  });

  it('refuses a URL that is not mongodb://', () => {
    expect(() => loadQueryConfig({ CIVIC_LEDGER_MONGODB_URL: 'http://127.0.0.1:27017/' })).toThrow(
      ConfigError,
    );
  });
});
