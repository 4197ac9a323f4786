import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { ConfigError } from '@civic-ledger/service-config';
import { MemoryLog } from '@civic-ledger/witness';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadWitnessConfig } from './config.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'witness-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const log = new MemoryLog('ledger.example/log');

function env(extra: Record<string, string> = {}): Record<string, string> {
  const logs = join(dir, 'logs.txt');
  writeFileSync(logs, `# the ledger\nlog ${log.verifierKey} https://ledger.example/\n`);
  return {
    CIVIC_LEDGER_WITNESS_KEY_FILE: join(dir, 'witness.key'),
    CIVIC_LEDGER_WITNESS_LOGS_FILE: logs,
    CIVIC_LEDGER_WITNESS_DB: join(dir, 'witness.db'),
    ...extra,
  };
}

function issues(fn: () => unknown): { variable: string; rule: string }[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

describe('witness configuration', () => {
  it('names every missing variable', () => {
    expect(
      issues(() => loadWitnessConfig({}))
        .map((i) => i.variable)
        .sort(),
    ).toEqual(['CIVIC_LEDGER_WITNESS_DB', 'CIVIC_LEDGER_WITNESS_KEY_FILE', 'CIVIC_LEDGER_WITNESS_LOGS_FILE']);
    expect(issues(() => loadWitnessConfig(env({ CIVIC_LEDGER_PORT: 'http' })))).toEqual([
      { variable: 'CIVIC_LEDGER_PORT', rule: 'a decimal integer' },
    ]);
    expect(
      issues(() => loadWitnessConfig(env({ CIVIC_LEDGER_WITNESS_NAME: 'has space' })))[0]?.variable,
    ).toBe('CIVIC_LEDGER_WITNESS_NAME');
  });

  it('creates a key file (mode 0600) only when given a name, then reads it back', () => {
    expect(issues(() => loadWitnessConfig(env()))[0]).toMatchObject({
      variable: 'CIVIC_LEDGER_WITNESS_KEY_FILE',
      rule: expect.stringContaining('CIVIC_LEDGER_WITNESS_NAME'),
    });
    const created = loadWitnessConfig(env({ CIVIC_LEDGER_WITNESS_NAME: 'w.example/1' }));
    expect(created).toMatchObject({ keyCreated: true, name: 'w.example/1', port: 8084, host: '127.0.0.1' });
    expect(statSync(join(dir, 'witness.key')).mode & 0o777).toBe(0o600);
    const again = loadWitnessConfig(env());
    expect(again.keyCreated).toBe(false);
    expect(Buffer.from(again.key.publicKey).equals(created.key.publicKey)).toBe(true);
    expect(again.logs).toEqual([{ origin: 'ledger.example/log', verifierKeys: [log.verifierKey] }]);
  });

  it('refuses a key file other users can read', () => {
    const path = join(dir, 'witness.key');
    writeSigningKeyFile(path, generateSigningKey('w.example'));
    chmodSync(path, 0o644);
    expect(issues(() => loadWitnessConfig(env()))[0]).toMatchObject({
      variable: 'CIVIC_LEDGER_WITNESS_KEY_FILE',
      rule: expect.stringContaining('chmod 600'),
    });
  });

  it('refuses a logs file that is missing, malformed (naming the line) or lists no log', () => {
    writeSigningKeyFile(join(dir, 'witness.key'), generateSigningKey('w.example'));
    const logs = join(dir, 'bad.txt');
    expect(
      issues(() => loadWitnessConfig({ ...env(), CIVIC_LEDGER_WITNESS_LOGS_FILE: join(dir, 'none.txt') }))[0]
        ?.variable,
    ).toBe('CIVIC_LEDGER_WITNESS_LOGS_FILE');
    writeFileSync(logs, `log ${log.verifierKey}\nlog nonsense\n`);
    expect(
      issues(() => loadWitnessConfig({ ...env(), CIVIC_LEDGER_WITNESS_LOGS_FILE: logs }))[0]?.rule,
    ).toContain('line 2');
    writeFileSync(logs, '# nothing\n');
    expect(
      issues(() => loadWitnessConfig({ ...env(), CIVIC_LEDGER_WITNESS_LOGS_FILE: logs }))[0]?.rule,
    ).toContain('at least one');
  });
});
