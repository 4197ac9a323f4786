import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { ConfigError } from '@civic-ledger/service-config';
import { formatCosignatureVerifierKey } from '@civic-ledger/witness';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSequencerConfig } from './config.ts';
import { startSequencer } from './server.ts';

const base = {
  CIVIC_LEDGER_MONGODB_URL: 'mongodb://127.0.0.1:27017/',
  CIVIC_LEDGER_KAFKA_BROKERS: '127.0.0.1:9092',
  CIVIC_LEDGER_NATS_URL: 'nats://127.0.0.1:4222',
  CIVIC_LEDGER_LOG_KEY_FILE: '/keys/log.key',
  CIVIC_LEDGER_OPERATOR_KEY: formatVerifierKey(generateSigningKey('ledger/k1')),
};

describe('sequencer configuration', () => {
  it('reads the stores, brokers and keys, and defaults the lease and batch', () => {
    const c = loadSequencerConfig(base);
    expect(c).toMatchObject({
      mongoUrl: 'mongodb://127.0.0.1:27017/',
      database: 'civic_ledger',
      logKeyFile: '/keys/log.key',
      leaseTtlMs: 10_000,
      maxBatch: 1000,
      maxWaitMs: 10_000,
    });
  });

  it('needs the log key file (every sequencer of a log signs with the same key)', () => {
    const { CIVIC_LEDGER_LOG_KEY_FILE: _, ...rest } = base;
    expect(() => loadSequencerConfig(rest)).toThrow(ConfigError);
    expect(() => loadSequencerConfig(rest)).toThrow(/CIVIC_LEDGER_LOG_KEY_FILE: required/);
  });

  it('refuses a lease shorter than a second and a batch beyond the ledger maximum', () => {
    expect(() =>
      loadSequencerConfig({ ...base, CIVIC_LEDGER_LEASE_TTL_MS: '10', CIVIC_LEDGER_MAX_BATCH: '9000' }),
    ).toThrow(/CIVIC_LEDGER_LEASE_TTL_MS.*\n.*CIVIC_LEDGER_MAX_BATCH/);
  });
});

describe('sequencer configuration: witnesses', () => {
  const ORIGIN = 'ledger.witnessed.example/log';
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A temp folder with the log key file and a policy file (`log` line given). */
  function files(logLine?: string) {
    const dir = mkdtempSync(join(tmpdir(), 'cl-sequencer-w-'));
    dirs.push(dir);
    const logKey = generateSigningKey(ORIGIN);
    writeSigningKeyFile(join(dir, 'log.key'), logKey);
    const w1 = generateSigningKey('w1.oversight.example');
    const witness = formatCosignatureVerifierKey(w1.name, w1.publicKey);
    const policyFile = join(dir, 'policy.txt');
    writeFileSync(
      policyFile,
      [
        logLine ?? `log ${formatVerifierKey(logKey)}`,
        `witness w1 ${witness} http://127.0.0.1:9`,
        'quorum w1',
        '',
      ].join('\n'),
    );
    const env = {
      ...base,
      CIVIC_LEDGER_ORIGIN: ORIGIN,
      CIVIC_LEDGER_LOG_KEY_FILE: join(dir, 'log.key'),
      CIVIC_LEDGER_WITNESS_POLICY_FILE: policyFile,
    };
    return { dir, policyFile, env };
  }

  it('is off without a policy file', () => {
    expect(loadSequencerConfig(base).witnessing).toBeUndefined();
  });

  it('reads the policy, the checkpoint cadence and the witness timeout', () => {
    const { env, policyFile } = files();
    const c = loadSequencerConfig({
      ...env,
      CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: '250',
      CIVIC_LEDGER_WITNESS_TIMEOUT_MS: '700',
    });
    expect(c.witnessing).toMatchObject({ policyFile, intervalMs: 250, timeoutMs: 700 });
    expect(c.witnessing!.policy.quorum).toBe('w1');
    expect(loadSequencerConfig(env).witnessing).toMatchObject({ intervalMs: 1000, timeoutMs: 2000 });
  });

  it('refuses a missing policy file, naming the variable', () => {
    expect(() =>
      loadSequencerConfig({ ...base, CIVIC_LEDGER_WITNESS_POLICY_FILE: '/nonexistent/policy.txt' }),
    ).toThrow(/CIVIC_LEDGER_WITNESS_POLICY_FILE: a readable tlog-policy file/);
  });

  it('refuses a policy that does not parse, naming the variable and the line', () => {
    const { env, policyFile } = files('log not-a-key');
    const thrown = (() => {
      try {
        loadSequencerConfig(env);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toContain(
      `CIVIC_LEDGER_WITNESS_POLICY_FILE: ${policyFile}: policy line 1:`,
    );
  });

  it('refuses at start a policy whose log line names another key, before connecting to anything', async () => {
    const other = formatVerifierKey(generateSigningKey(ORIGIN));
    const { env, policyFile } = files(`log ${other}`);
    // Nothing listens on these: the check must come first, so the error is the policy's.
    const config = loadSequencerConfig({
      ...env,
      CIVIC_LEDGER_MONGODB_URL: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200',
    });
    const started = startSequencer(config, { logger: false });
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(
      `CIVIC_LEDGER_WITNESS_POLICY_FILE: ${policyFile}: policy line 1: the log key ${other} is not this ledger's log key`,
    );
  });

  it('refuses a cadence or timeout out of range', () => {
    expect(() =>
      loadSequencerConfig({
        ...base,
        CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: '5',
        CIVIC_LEDGER_WITNESS_TIMEOUT_MS: '0',
      }),
    ).toThrow(/CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS.*\n.*CIVIC_LEDGER_WITNESS_TIMEOUT_MS/);
  });
});

describe('sequencer configuration: log key rotation (CIVIC_LEDGER_NEXT_LOG_KEY_FILE)', () => {
  const ORIGIN = 'ledger.rotated.example/log';
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function keyDir() {
    const dir = mkdtempSync(join(tmpdir(), 'cl-sequencer-rot-'));
    dirs.push(dir);
    writeSigningKeyFile(join(dir, 'log.key'), generateSigningKey(ORIGIN));
    return dir;
  }

  it('is read as an absolute path, unset by default', () => {
    expect(loadSequencerConfig(base).nextLogKeyFile).toBeUndefined();
    const c = loadSequencerConfig({ ...base, CIVIC_LEDGER_NEXT_LOG_KEY_FILE: 'keys/next.key' });
    expect(c.nextLogKeyFile).toBe(join(process.cwd(), 'keys/next.key'));
  });

  it('refuses at start a missing, world-readable, foreign or same next key, naming the variable, before connecting', async () => {
    const dir = keyDir();
    const refused = async (file: string, rule: RegExp) => {
      // Nothing listens on these: the check must come first, so the error is the key file's.
      const config = loadSequencerConfig({
        ...base,
        CIVIC_LEDGER_ORIGIN: ORIGIN,
        CIVIC_LEDGER_LOG_KEY_FILE: join(dir, 'log.key'),
        CIVIC_LEDGER_NEXT_LOG_KEY_FILE: file,
        CIVIC_LEDGER_MONGODB_URL: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200',
      });
      const err = await startSequencer(config, { logger: false }).then(
        async (s) => (await s.close(), undefined),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues[0]!.variable).toBe('CIVIC_LEDGER_NEXT_LOG_KEY_FILE');
      expect((err as Error).message).toMatch(rule);
    };
    await refused(join(dir, 'absent.key'), /an existing private key file/);
    const open = join(dir, 'open.key');
    writeSigningKeyFile(open, generateSigningKey(ORIGIN));
    chmodSync(open, 0o644);
    await refused(open, /readable by other users/);
    const other = join(dir, 'other.key');
    writeSigningKeyFile(other, generateSigningKey('elsewhere.example/log'));
    await refused(other, /not "ledger\.rotated\.example\/log" as the log key/);
    await refused(join(dir, 'log.key'), /the same key as the current log key/);
  });
});
