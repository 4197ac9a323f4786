import { resolve } from 'node:path';
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { ConfigError } from '@civic-ledger/service-config';
import { describe, expect, it } from 'vitest';
import { loadQueryConfig } from './config.ts';

const MONGO = { CIVIC_LEDGER_MONGODB_URL: 'mongodb://127.0.0.1:27017/' };
const issuerKey = generateSigningKey('city.example/log');

/** The variables a ConfigError names. */
function variablesOf(env: Record<string, string>): string[] {
  try {
    loadQueryConfig({ ...MONGO, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => i.variable);
  }
  throw new Error('expected a ConfigError');
}

describe('query configuration', () => {
  it('needs only the store; NATS is optional (live notifications)', () => {
    const c = loadQueryConfig(MONGO);
    expect(c).toMatchObject({ database: 'civic_ledger', natsServers: undefined, port: 8083 });
  });

  it('refuses a URL that is not mongodb://', () => {
    expect(() => loadQueryConfig({ CIVIC_LEDGER_MONGODB_URL: 'http://127.0.0.1:27017/' })).toThrow(
      ConfigError,
    );
  });
});

describe('query configuration: read access', () => {
  it('is off by default, and off needs neither the issuer key nor the access log', () => {
    expect(loadQueryConfig(MONGO).access).toBeUndefined();
    expect(loadQueryConfig({ ...MONGO, CIVIC_LEDGER_ACCESS_CONTROL: 'off' }).access).toBeUndefined();
  });

  it('with tokens: the issuer public key and the access log path (resolved)', () => {
    const c = loadQueryConfig({
      ...MONGO,
      CIVIC_LEDGER_ACCESS_CONTROL: 'tokens',
      CIVIC_LEDGER_TOKEN_ISSUER_KEY: `${formatVerifierKey(issuerKey)}\n`,
      CIVIC_LEDGER_ACCESS_LOG_FILE: 'var/access-log.db',
    });
    expect(c.access?.accessLogFile).toBe(resolve('var/access-log.db'));
    expect(c.access && formatVerifierKey(c.access.issuerKey)).toBe(formatVerifierKey(issuerKey));
  });

  it('with tokens: a missing issuer key or access log file names each variable', () => {
    expect(variablesOf({ CIVIC_LEDGER_ACCESS_CONTROL: 'tokens' })).toEqual([
      'CIVIC_LEDGER_TOKEN_ISSUER_KEY',
      'CIVIC_LEDGER_ACCESS_LOG_FILE',
    ]);
    expect(
      variablesOf({
        CIVIC_LEDGER_ACCESS_CONTROL: 'tokens',
        CIVIC_LEDGER_TOKEN_ISSUER_KEY: formatVerifierKey(issuerKey),
      }),
    ).toEqual(['CIVIC_LEDGER_ACCESS_LOG_FILE']);
  });

  it('names a wrong mode, a key that is not verifier key text, and an empty log path', () => {
    expect(variablesOf({ CIVIC_LEDGER_ACCESS_CONTROL: 'on' })).toEqual(['CIVIC_LEDGER_ACCESS_CONTROL']);
    // A private key is refused: this service must never hold the issuer's secret.
    const privateText = `PRIVATE+KEY+${formatVerifierKey(issuerKey)}`;
    for (const key of [
      'not-a-key',
      privateText,
      formatVerifierKey(issuerKey).replace(/\+\w{8}\+/, '+00000000+'),
    ])
      expect(
        variablesOf({
          CIVIC_LEDGER_ACCESS_CONTROL: 'tokens',
          CIVIC_LEDGER_TOKEN_ISSUER_KEY: key,
          CIVIC_LEDGER_ACCESS_LOG_FILE: '/tmp/access-log.db',
        }),
      ).toEqual(['CIVIC_LEDGER_TOKEN_ISSUER_KEY']);
    expect(
      variablesOf({
        CIVIC_LEDGER_ACCESS_CONTROL: 'tokens',
        CIVIC_LEDGER_TOKEN_ISSUER_KEY: formatVerifierKey(issuerKey),
        CIVIC_LEDGER_ACCESS_LOG_FILE: '',
      }),
    ).toEqual(['CIVIC_LEDGER_ACCESS_LOG_FILE']);
  });
});
