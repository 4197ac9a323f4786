import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '@civic-ledger/crypto';
import { ConfigError } from '@civic-ledger/service-config';
import { parseNote } from '@civic-ledger/signed-note';
import { addSignatures, cosignerFromKey, MemoryLog, parsePolicy } from '@civic-ledger/witness';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWitnessPolicy, publishedWitnesses } from './witnesses.ts';

const log = new MemoryLog('city.example/log').grow(7);
const names = ['alpha', 'beta', 'gamma'] as const;
const cosigners = Object.fromEntries(
  names.map((n) => [n, cosignerFromKey(generateSigningKey(`${n}.example/witness`))]),
);
const POLICY = `log ${log.verifierKey}
${names.map((n) => `witness ${n} ${cosigners[n]!.verifierKey} http://127.0.0.1:1/${n}`).join('\n')}
group board 2 ${names.join(' ')}
quorum board
`;
const policy = parsePolicy(POLICY);

function cosignedBy(signers: readonly string[], note = log.checkpoint()): string {
  const text = parseNote(note).text;
  return addSignatures(
    note,
    signers.map((n) => cosigners[n]!.cosign(text, 1_800_000_000)),
  );
}

describe('publishedWitnesses', () => {
  it('says which policy witnesses cosigned the stored checkpoint and that 2 of 3 hold the quorum', () => {
    const status = publishedWitnesses(policy, cosignedBy(['alpha', 'gamma']));
    expect(status).toMatchObject({
      origin: 'city.example/log',
      quorum: 'board',
      size: 7,
      quorumHeld: true,
      shortfall: null,
    });
    expect(status.witnesses).toEqual([
      {
        witness: 'alpha',
        url: 'http://127.0.0.1:1/alpha',
        cosigned: true,
        timestamp: '2027-01-15T08:00:00.000Z',
      },
      { witness: 'beta', url: 'http://127.0.0.1:1/beta', cosigned: false, timestamp: null },
      {
        witness: 'gamma',
        url: 'http://127.0.0.1:1/gamma',
        cosigned: true,
        timestamp: '2027-01-15T08:00:00.000Z',
      },
    ]);
  });

  it('reports a checkpoint short of the quorum with the group that does not hold', () => {
    const status = publishedWitnesses(policy, cosignedBy(['beta']));
    expect(status.quorumHeld).toBe(false);
    expect(status.shortfall).toMatch(/board/);
    expect(status.witnesses.filter((w) => w.cosigned).map((w) => w.witness)).toEqual(['beta']);
  });

  it('answers CORRUPT, naming the check, for a stored checkpoint with a forged cosignature or another log key', () => {
    const good = cosignedBy(['alpha', 'beta']);
    const forged = addSignatures(log.checkpoint(), [
      cosigners['alpha']!.cosign(parseNote(log.checkpoint()).text.replace('\n7\n', '\n8\n'), 1_800_000_000),
    ]);
    expect(() => publishedWitnesses(policy, forged)).toThrow(
      expect.objectContaining({ code: 'CORRUPT', details: { check: 'COSIGNATURE_INVALID' } }),
    );
    const other = new MemoryLog('city.example/log').grow(7).checkpoint();
    expect(() => publishedWitnesses(policy, other)).toThrow(
      expect.objectContaining({ code: 'CORRUPT', details: { check: 'LOG_SIGNATURE_MISSING' } }),
    );
    expect(publishedWitnesses(policy, good).quorumHeld).toBe(true);
  });
});

describe('loadWitnessPolicy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cl-query-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a policy with a log line for this origin', () => {
    writeFileSync(join(dir, 'ok.policy'), POLICY);
    expect(loadWitnessPolicy(join(dir, 'ok.policy'), 'city.example/log').quorum).toBe('board');
  });

  it('refuses, naming the variable, a policy for another log, one without a quorum and an unreadable file', () => {
    writeFileSync(join(dir, 'ok.policy'), POLICY);
    writeFileSync(join(dir, 'noquorum.policy'), POLICY.replace('quorum board\n', ''));
    const rule = (path: string, origin = 'city.example/log') => {
      try {
        loadWitnessPolicy(path, origin);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        const issue = (e as ConfigError).issues[0]!;
        expect(issue.variable).toBe('CIVIC_LEDGER_WITNESS_POLICY_FILE');
        return issue.rule;
      }
      throw new Error('expected a ConfigError');
    };
    expect(rule(join(dir, 'ok.policy'), 'other.example/log')).toMatch(
      /no log line for this log's origin other\.example\/log/,
    );
    expect(rule(join(dir, 'noquorum.policy'))).toMatch(/no quorum line/);
    expect(rule(join(dir, 'missing.policy'))).toMatch(/ENOENT/);
  });
});
