import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerList, ConfigError, envInt, mongoUrl, natsUrls, parseEnv, readConfigFile } from './index.ts';

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

describe('readConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cl-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns what the parser makes of the file', () => {
    writeFileSync(join(dir, 'ok.txt'), '42\n');
    expect(readConfigFile('A_FILE', join(dir, 'ok.txt'), (b) => Number(b.toString('utf8')))).toBe(42);
  });

  it('names the variable and the path for a missing file, and the parser message for a bad one, never the content', () => {
    const missing = join(dir, 'missing.txt');
    expect(() => readConfigFile('A_FILE', missing, () => 1)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        issues: [{ variable: 'A_FILE', rule: `a readable file (${missing}: ENOENT)` }],
      }),
    );
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'secret-content');
    try {
      readConfigFile('A_FILE', bad, () => {
        throw new Error('line 1: not a policy');
      });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).issues).toEqual([
        { variable: 'A_FILE', rule: `${bad}: line 1: not a policy` },
      ]);
      expect((e as Error).message).not.toContain('secret-content');
    }
  });
});
