import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { ConfigError } from '@civic-ledger/service-config';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMonitorConfig } from './config.ts';

const LOG_KEY = formatVerifierKey(generateSigningKey('ledger.example/log'));
const NEXT_KEY = formatVerifierKey(generateSigningKey('ledger.example/log'));
const dir = mkdtempSync(join(tmpdir(), 'monitor-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function keysFile(content: string): string {
  const path = join(dir, `keys-${files++}.json`);
  writeFileSync(path, content);
  return path;
}

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
      'CIVIC_LEDGER_MONITOR_STATE_FILE',
      'CIVIC_LEDGER_NATS_URL',
      'CIVIC_LEDGER_LOG_KEY',
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

  describe('CIVIC_LEDGER_LOG_KEYS_FILE (a rotated log: keys with windows, the --log-keys format)', () => {
    const { CIVIC_LEDGER_LOG_KEY: _, ...noKey } = base;

    it('reads the windows; the last key is the current one (default origin: its name)', () => {
      const file = keysFile(
        JSON.stringify([
          { key: LOG_KEY, untilSize: 9 },
          { key: ` ${NEXT_KEY}`, fromSize: 8 },
        ]),
      );
      const c = loadMonitorConfig({ ...noKey, CIVIC_LEDGER_LOG_KEYS_FILE: file });
      expect(c.logKeys).toEqual([
        { key: LOG_KEY, untilSize: 9 },
        { key: NEXT_KEY, fromSize: 8 },
      ]);
      expect(c.logKey).toBe(NEXT_KEY);
      // One key pinned: no windows.
      expect(loadMonitorConfig(base).logKeys).toBeUndefined();
    });

    it('a wrong file is named with the member and its rule', () => {
      const badKey = keysFile(JSON.stringify([{ key: LOG_KEY }, { key: 'not a key' }]));
      expect(issues({ ...noKey, CIVIC_LEDGER_LOG_KEYS_FILE: badKey })).toEqual([
        {
          variable: 'CIVIC_LEDGER_LOG_KEYS_FILE',
          rule: `${badKey}: [1].key: a verifier key text <name>+<8 hex key id>+<base64 key>`,
        },
      ]);
      const badWindow = keysFile(JSON.stringify([{ key: LOG_KEY, fromSize: 5, untilSize: 2 }]));
      expect(issues({ ...noKey, CIVIC_LEDGER_LOG_KEYS_FILE: badWindow })).toEqual([
        {
          variable: 'CIVIC_LEDGER_LOG_KEYS_FILE',
          rule: `${badWindow}: [0].untilSize: untilSize must be >= fromSize`,
        },
      ]);
      const unknown = keysFile(JSON.stringify([{ key: LOG_KEY, since: 3 }]));
      expect(issues({ ...noKey, CIVIC_LEDGER_LOG_KEYS_FILE: unknown })[0]!.rule).toBe(
        `${unknown}: [0]: unknown member(s) "since"`,
      );
      const notJson = keysFile('[{');
      expect(issues({ ...noKey, CIVIC_LEDGER_LOG_KEYS_FILE: notJson })[0]!.rule).toMatch(
        /: \(file\): not JSON/,
      );
      const missing = join(dir, 'nowhere.json');
      expect(issues({ ...noKey, CIVIC_LEDGER_LOG_KEYS_FILE: missing })).toEqual([
        { variable: 'CIVIC_LEDGER_LOG_KEYS_FILE', rule: `a readable file (${missing}: ENOENT)` },
      ]);
    });

    it('exactly one of CIVIC_LEDGER_LOG_KEY and CIVIC_LEDGER_LOG_KEYS_FILE', () => {
      const file = keysFile(JSON.stringify([{ key: LOG_KEY }]));
      expect(issues({ ...base, CIVIC_LEDGER_LOG_KEYS_FILE: file })).toEqual([
        {
          variable: 'CIVIC_LEDGER_LOG_KEYS_FILE',
          rule: 'give CIVIC_LEDGER_LOG_KEY or CIVIC_LEDGER_LOG_KEYS_FILE, not both',
        },
      ]);
      expect(issues(noKey)).toEqual([
        {
          variable: 'CIVIC_LEDGER_LOG_KEY',
          rule: "required (or CIVIC_LEDGER_LOG_KEYS_FILE: a rotated log's keys with their windows)",
        },
      ]);
    });
  });

  describe('CIVIC_LEDGER_TOKEN_FILE (the bearer token for the ledger, when read access control is on)', () => {
    const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

    it('reads the token (trimmed); without the variable there is none', () => {
      expect(loadMonitorConfig({ ...base, CIVIC_LEDGER_TOKEN_FILE: keysFile(`${TOKEN}\n`) }).token).toBe(
        TOKEN,
      );
      expect(loadMonitorConfig(base).token).toBeUndefined();
    });

    it('a missing file or one without a token is named, and the content is never echoed', () => {
      const missing = join(dir, 'missing.token');
      expect(issues({ ...base, CIVIC_LEDGER_TOKEN_FILE: missing })).toEqual([
        { variable: 'CIVIC_LEDGER_TOKEN_FILE', rule: `a readable file (${missing}: ENOENT)` },
      ]);
      const wrong = keysFile('not-a-token secret-ish');
      const [issue] = issues({ ...base, CIVIC_LEDGER_TOKEN_FILE: wrong });
      expect(issue).toEqual({
        variable: 'CIVIC_LEDGER_TOKEN_FILE',
        rule: `${wrong}: does not hold a token (<header>.<claims>.<signature>)`,
      });
      expect(issue!.rule).not.toContain('secret-ish');
    });
  });
});
