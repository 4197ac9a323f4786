import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { ConfigError } from '@civic-ledger/service-config';
import { describe, expect, it } from 'vitest';
import { loadMonitorConfig } from './config.ts';

const LOG_KEY = formatVerifierKey(generateSigningKey('ledger.example/log'));
const base = {
  CIVIC_LEDGER_LEDGER_URL: 'http://127.0.0.1:8081/',
  CIVIC_LEDGER_LOG_KEY: LOG_KEY,
  CIVIC_LEDGER_MONITOR_STATE_FILE: 'monitor-state.json',
  CIVIC_LEDGER_NATS_URL: 'nats://127.0.0.1:4222',
};

function issues(env: Record<string, string>): { variable: string; rule: string }[] {
  try {
    loadMonitorConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('the configuration loaded');
}

describe('monitor service configuration', () => {
  it('has defaults for everything but the ledger, its key, the state file and NATS', () => {
    const c = loadMonitorConfig(base);
    expect(c).toMatchObject({
      ledgerUrl: 'http://127.0.0.1:8081',
      logKey: LOG_KEY,
      origin: undefined,
      witnesses: [],
      intervalMs: 2000,
      natsServers: ['nats://127.0.0.1:4222'],
      namespace: undefined,
      host: '127.0.0.1',
      port: 8085,
      logLevel: 'info',
    });
    // A relative state file is taken from where the process started.
    expect(c.statePath).toMatch(/^\/.*monitor-state\.json$/);
  });

  it('reads the witnesses, the namespace and the interval', () => {
    const c = loadMonitorConfig({
      ...base,
      CIVIC_LEDGER_WITNESS_URLS: 'https://w1.example/, http://127.0.0.1:9000',
      CIVIC_LEDGER_NAMESPACE: 'city-a',
      CIVIC_LEDGER_MONITOR_INTERVAL_MS: '500',
      CIVIC_LEDGER_ORIGIN: 'ledger.example/log',
    });
    expect(c).toMatchObject({
      witnesses: ['https://w1.example/', 'http://127.0.0.1:9000'],
      namespace: 'city-a',
      intervalMs: 500,
      origin: 'ledger.example/log',
    });
  });

  it('names every missing or wrong variable', () => {
    expect(issues({}).map((i) => i.variable)).toEqual([
      'CIVIC_LEDGER_LEDGER_URL',
      'CIVIC_LEDGER_LOG_KEY',
      'CIVIC_LEDGER_MONITOR_STATE_FILE',
      'CIVIC_LEDGER_NATS_URL',
    ]);
    expect(
      issues({
        ...base,
        CIVIC_LEDGER_LEDGER_URL: 'ftp://ledger.example',
        CIVIC_LEDGER_LOG_KEY: 'not a key',
        CIVIC_LEDGER_WITNESS_URLS: 'https://w1.example,nowhere',
        CIVIC_LEDGER_MONITOR_INTERVAL_MS: 'often',
        CIVIC_LEDGER_NAMESPACE: 'City.A',
        CIVIC_LEDGER_NATS_URL: 'http://127.0.0.1:4222',
      }),
    ).toEqual([
      { variable: 'CIVIC_LEDGER_LEDGER_URL', rule: 'an http(s):// URL' },
      { variable: 'CIVIC_LEDGER_LOG_KEY', rule: 'a verifier key text: <name>+<8 hex key id>+<base64 key>' },
      { variable: 'CIVIC_LEDGER_WITNESS_URLS', rule: 'an http(s):// URL' },
      { variable: 'CIVIC_LEDGER_MONITOR_INTERVAL_MS', rule: 'a decimal integer' },
      { variable: 'CIVIC_LEDGER_NATS_URL', rule: 'nats://host:port[,nats://...]' },
      { variable: 'CIVIC_LEDGER_NAMESPACE', rule: '1 to 32 of a-z 0-9 - (not starting with -)' },
    ]);
  });
});
