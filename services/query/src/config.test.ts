import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  it('needs the store; NATS is optional (live notifications)', () => {
    const c = loadQueryConfig({ ...MONGO, CIVIC_LEDGER_ACCESS_CONTROL: 'off' });
    expect(c).toMatchObject({ database: 'civic_ledger', natsServers: undefined, port: 8083 });
  });

  it('refuses a URL that is not mongodb://', () => {
    expect(() =>
      loadQueryConfig({
        CIVIC_LEDGER_MONGODB_URL: 'http://127.0.0.1:27017/',
        CIVIC_LEDGER_ACCESS_CONTROL: 'off',
      }),
    ).toThrow(ConfigError);
  });
});

describe('query configuration: read access', () => {
  it('is on by default: a bare start names the issuer key and the access log, says how to get one or how to turn it off', () => {
    let error: unknown;
    try {
      loadQueryConfig(MONGO);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((i) => i.variable)).toEqual([
      'CIVIC_LEDGER_TOKEN_ISSUER_KEY',
      'CIVIC_LEDGER_ACCESS_LOG_FILE',
    ]);
    for (const { rule } of issues) {
      expect(rule).toContain('CIVIC_LEDGER_ACCESS_CONTROL=tokens (the default)');
      expect(rule).toContain('CIVIC_LEDGER_ACCESS_CONTROL=off for development');
    }
    expect(issues[0]!.rule).toContain('civic-ledger keygen');
  });

  it('names the missing access variables together with any other wrong variable', () => {
    expect(variablesOf({ CIVIC_LEDGER_PORT: 'eighty' })).toEqual([
      'CIVIC_LEDGER_PORT',
      'CIVIC_LEDGER_TOKEN_ISSUER_KEY',
      'CIVIC_LEDGER_ACCESS_LOG_FILE',
    ]);
  });

  it('off, set explicitly, needs neither the issuer key nor the access log', () => {
    expect(loadQueryConfig({ ...MONGO, CIVIC_LEDGER_ACCESS_CONTROL: 'off' }).access).toBeUndefined();
  });

  it('the process exits 1 at start naming the variable and the way out, before it connects to anything', () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    // Port 1: nothing listens there; the configuration fails before any connection is tried.
    const r = spawnSync(process.execPath, [main], {
      env: { PATH: process.env['PATH'] ?? '', CIVIC_LEDGER_MONGODB_URL: 'mongodb://127.0.0.1:1/' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('civic-ledger query: invalid configuration');
    expect(r.stderr).toContain('CIVIC_LEDGER_TOKEN_ISSUER_KEY: required');
    expect(r.stderr).toContain('CIVIC_LEDGER_ACCESS_CONTROL=off');
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
