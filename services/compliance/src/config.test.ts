import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { ConfigError } from '@civic-ledger/service-config';
import { afterAll, describe, expect, it } from 'vitest';
import { loadComplianceConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'compliance-config-'));
const keyFile = join(dir, 'compliance.key');
writeSigningKeyFile(keyFile, generateSigningKey('compliance/k1'));
const base = {
  CIVIC_LEDGER_MONGODB_URL: 'mongodb://127.0.0.1:27017/',
  CIVIC_LEDGER_KAFKA_BROKERS: '127.0.0.1:9092',
  CIVIC_LEDGER_NATS_URL: 'nats://127.0.0.1:4222',
  CIVIC_LEDGER_COMPLIANCE_KEY_FILE: keyFile,
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function issues(env: Record<string, string>): { variable: string; rule: string }[] {
  try {
    loadComplianceConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('the configuration loaded');
}

describe('compliance configuration', () => {
  it('reads the key and takes the organization from it; the retention monitor runs every minute', () => {
    const c = loadComplianceConfig(base);
    expect(c).toMatchObject({
      org: 'compliance',
      database: 'civic_ledger',
      retentionIntervalMs: 60_000,
      pollIntervalMs: 1000,
      port: 8084,
    });
    expect(c.key.name).toBe('compliance/k1');
  });

  it('names every missing or wrong variable', () => {
    expect(issues({}).map((i) => i.variable)).toEqual([
      'CIVIC_LEDGER_MONGODB_URL',
      'CIVIC_LEDGER_KAFKA_BROKERS',
      'CIVIC_LEDGER_NATS_URL',
      'CIVIC_LEDGER_COMPLIANCE_KEY_FILE',
    ]);
    expect(issues({ ...base, CIVIC_LEDGER_RETENTION_INTERVAL_MS: 'hourly' })).toEqual([
      { variable: 'CIVIC_LEDGER_RETENTION_INTERVAL_MS', rule: 'a decimal integer' },
    ]);
  });

  it('refuses a key file that is missing, or an organization the key is not of', () => {
    const [missing] = issues({ ...base, CIVIC_LEDGER_COMPLIANCE_KEY_FILE: join(dir, 'none.key') });
    expect(missing).toMatchObject({ variable: 'CIVIC_LEDGER_COMPLIANCE_KEY_FILE' });
    expect(missing!.rule).toContain('a readable Ed25519 key file');
    expect(issues({ ...base, CIVIC_LEDGER_COMPLIANCE_ORG: 'police' })).toEqual([
      {
        variable: 'CIVIC_LEDGER_COMPLIANCE_ORG',
        rule: 'the organization of the key (compliance/k1), not police',
      },
    ]);
  });
});
