import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const operatorKey = formatVerifierKey(generateSigningKey('ledger/k1'));

describe('loadConfig', () => {
  it('applies the defaults', () => {
    const c = loadConfig({ CIVIC_LEDGER_OPERATOR_KEY: operatorKey });
    expect(c).toMatchObject({
      dataDir: resolve('./data'),
      host: '127.0.0.1',
      port: 8080,
      origin: 'civic-ledger.localhost/log',
      logKeyFile: resolve('./data/log.key'),
      operatorKey,
      checkpoints: { maxEntries: 1000, maxDelayMs: 1000 },
      logLevel: 'info',
      rateLimitPerMinute: 6000,
    });
  });

  it('reads every variable', () => {
    const c = loadConfig({
      CIVIC_LEDGER_OPERATOR_KEY: ` ${operatorKey}\n`,
      CIVIC_LEDGER_DATA_DIR: '/var/lib/ledger',
      CIVIC_LEDGER_HOST: '0.0.0.0',
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_ORIGIN: 'ledger.example-city.eu/log',
      CIVIC_LEDGER_LOG_KEY_FILE: '/etc/ledger/log.key',
      CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: '50',
      CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '250',
      CIVIC_LEDGER_LOG_LEVEL: 'warn',
      CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '0',
    });
    expect(c).toMatchObject({
      dataDir: '/var/lib/ledger',
      host: '0.0.0.0',
      port: 0,
      origin: 'ledger.example-city.eu/log',
      logKeyFile: '/etc/ledger/log.key',
      operatorKey,
      checkpoints: { maxEntries: 50, maxDelayMs: 250 },
      logLevel: 'warn',
      rateLimitPerMinute: 0,
    });
  });

  it('names every wrong variable and its rule', () => {
    let error: unknown;
    try {
      loadConfig({
        CIVIC_LEDGER_PORT: '80a',
        CIVIC_LEDGER_ORIGIN: 'has space',
        CIVIC_LEDGER_LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((i) => i.variable).sort()).toEqual([
      'CIVIC_LEDGER_LOG_LEVEL',
      'CIVIC_LEDGER_OPERATOR_KEY',
      'CIVIC_LEDGER_ORIGIN',
      'CIVIC_LEDGER_PORT',
    ]);
    expect(issues.find((i) => i.variable === 'CIVIC_LEDGER_OPERATOR_KEY')!.rule).toBe('required');
    expect((error as Error).message).toContain('CIVIC_LEDGER_PORT: a decimal integer');
    expect(() => loadConfig({ CIVIC_LEDGER_OPERATOR_KEY: 'not-a-key' })).toThrow(/verifier key text/);
    expect(() => loadConfig({ CIVIC_LEDGER_OPERATOR_KEY: operatorKey, CIVIC_LEDGER_PORT: '70000' })).toThrow(
      /CIVIC_LEDGER_PORT/,
    );
  });
});

describe('loadConfig: read access', () => {
  it('is on by default: the issuer key and the access log in the data dir', () => {
    const c = loadConfig({
      CIVIC_LEDGER_OPERATOR_KEY: operatorKey,
      CIVIC_LEDGER_DATA_DIR: '/var/lib/ledger',
    });
    expect(c.access).toEqual({
      issuerKeyFile: '/var/lib/ledger/token-issuer.key',
      accessLogFile: '/var/lib/ledger/access-log.db',
    });
  });

  it('takes the issuer key and access log paths from their variables', () => {
    const c = loadConfig({
      CIVIC_LEDGER_OPERATOR_KEY: operatorKey,
      CIVIC_LEDGER_ACCESS_CONTROL: 'tokens',
      CIVIC_LEDGER_TOKEN_ISSUER_KEY_FILE: '/etc/ledger/issuer.key',
      CIVIC_LEDGER_ACCESS_LOG_FILE: 'logs/access.db',
    });
    expect(c.access).toEqual({
      issuerKeyFile: '/etc/ledger/issuer.key',
      accessLogFile: resolve('logs/access.db'),
    });
  });

  it('is off only when set to off explicitly; another value is named', () => {
    expect(
      loadConfig({ CIVIC_LEDGER_OPERATOR_KEY: operatorKey, CIVIC_LEDGER_ACCESS_CONTROL: 'off' }).access,
    ).toBeUndefined();
    expect(() =>
      loadConfig({ CIVIC_LEDGER_OPERATOR_KEY: operatorKey, CIVIC_LEDGER_ACCESS_CONTROL: 'none' }),
    ).toThrow(/CIVIC_LEDGER_ACCESS_CONTROL/);
  });
});
