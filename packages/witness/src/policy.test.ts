import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { parseNote } from '@civic-ledger/signed-note';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addSignatures } from './client.ts';
import { cosignerFromKey, type Cosigner } from './cosignature.ts';
import { isWitnessError, type WitnessErrorCode } from './errors.ts';
import { MemoryLog } from './memory-log.ts';
import {
  checkQuorum,
  evaluateQuorum,
  formatPolicy,
  parsePolicy,
  requireQuorum,
  type Policy,
} from './policy.ts';

const log = new MemoryLog('ledger.example/log').grow(5);
const witnesses: Record<string, Cosigner> = Object.fromEntries(
  ['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3'].map((n) => [
    n,
    cosignerFromKey(generateSigningKey(`${n.toLowerCase()}.example/w`)),
  ]),
);
const vkey = (n: string) => witnesses[n]!.verifierKey;

// The example policy of c2sp.org/tlog-policy, with real keys.
const SPEC_EXAMPLE = `log ${log.verifierKey}

witness X1 ${vkey('X1')}
witness X2 ${vkey('X2')}
witness X3 ${vkey('X3')}
group X-witnesses 2 X1 X2 X3

witness Y1 ${vkey('Y1')}
witness Y2 ${vkey('Y2')}
witness Y3 ${vkey('Y3')}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`;

function failure(fn: () => unknown): { code: WitnessErrorCode; line: unknown } | undefined {
  try {
    fn();
  } catch (e) {
    if (isWitnessError(e)) return { code: e.code, line: e.details.line };
    throw e;
  }
  return undefined;
}

/** The log's checkpoint cosigned by the named witnesses. */
function cosigned(names: readonly string[], note = log.checkpoint()): string {
  const text = parseNote(note).text;
  return addSignatures(
    note,
    names.map((n) => witnesses[n]!.cosign(text, 1_700_000_000)),
  );
}

describe('parsePolicy', () => {
  it('parses the example of the spec', () => {
    const p = parsePolicy(SPEC_EXAMPLE);
    expect(p.logs).toEqual([{ origin: 'ledger.example/log', verifierKey: log.verifierKey, line: 1 }]);
    expect(p.witnesses.map((w) => [w.name, w.line])).toEqual([
      ['X1', 3],
      ['X2', 4],
      ['X3', 5],
      ['Y1', 8],
      ['Y2', 9],
      ['Y3', 10],
    ]);
    expect(p.groups).toEqual([
      { name: 'X-witnesses', threshold: 2, spelled: '2', members: ['X1', 'X2', 'X3'], line: 6 },
      { name: 'Y-witnesses', threshold: 1, spelled: 'any', members: ['Y1', 'Y2', 'Y3'], line: 11 },
      { name: 'X-and-Y', threshold: 2, spelled: 'all', members: ['X-witnesses', 'Y-witnesses'], line: 13 },
    ]);
    expect(p.quorum).toBe('X-and-Y');
  });

  it('allows comments, blank lines, tabs, surrounding white space, URLs and a missing final newline', () => {
    const p = parsePolicy(
      `# logs\n  \t\n\tlog\t${log.verifierKey}   https://ledger.example/  \n  # witnesses\nwitness w ${vkey('X1')} http://127.0.0.1:8084\nquorum w`,
    );
    expect(p.logs[0]!.url).toBe('https://ledger.example/');
    expect(p.witnesses[0]!.url).toBe('http://127.0.0.1:8084');
    expect(parsePolicy('quorum none\n').quorum).toBe('none');
  });

  it('refuses every malformed policy with a stable code and the line', () => {
    const w = (name: string, key = 'X1') => `witness ${name} ${vkey(key)}\n`;
    const cases: [string, WitnessErrorCode, number | undefined][] = [
      [`quorum none\nfrobnicate x\n`, 'POLICY_UNKNOWN_KEYWORD', 2],
      [`log\nquorum none\n`, 'POLICY_ARGUMENTS', 1],
      [`log ${log.verifierKey} https://a https://b\nquorum none\n`, 'POLICY_ARGUMENTS', 1],
      [`witness X1\nquorum none\n`, 'POLICY_ARGUMENTS', 1],
      [`${w('a')}group g 1\nquorum g\n`, 'POLICY_ARGUMENTS', 2],
      [`${w('a')}quorum a b\n`, 'POLICY_ARGUMENTS', 2],
      [`log not-a-key\nquorum none\n`, 'POLICY_BAD_KEY', 1],
      [`log ${vkey('X1')}\nquorum none\n`, 'POLICY_BAD_KEY', 1], // a cosigner key as a log key
      [`witness a ${log.verifierKey}\nquorum none\n`, 'POLICY_BAD_KEY', 1], // a note key as a witness key
      [`log ${log.verifierKey} ftp://x\nquorum none\n`, 'POLICY_BAD_URL', 1],
      [`${w('a')}witness b ${vkey('X2')} not-a-url\nquorum none\n`, 'POLICY_BAD_URL', 2],
      [`${w('a')}${w('b')}quorum a\n`, 'POLICY_DUPLICATE_KEY', 2],
      [`log ${log.verifierKey}\nlog ${log.verifierKey}\nquorum none\n`, 'POLICY_DUPLICATE_KEY', 2],
      [`${w('a')}${w('a', 'X2')}quorum a\n`, 'POLICY_DUPLICATE_NAME', 2],
      [`${w('a')}group a any a\nquorum a\n`, 'POLICY_DUPLICATE_NAME', 2],
      [`${w('a')}${w('b', 'X2')}group a any b\nquorum a\n`, 'POLICY_DUPLICATE_NAME', 3],
      [`${w('none')}quorum none\n`, 'POLICY_RESERVED_NAME', 1],
      [`${w('a')}group g any a none\nquorum g\n`, 'POLICY_RESERVED_NAME', 2],
      [`group g any a\n${w('a')}quorum g\n`, 'POLICY_UNDEFINED_NAME', 1],
      [`${w('a')}quorum b\n`, 'POLICY_UNDEFINED_NAME', 2],
      [`${w('a')}group g 2 a\nquorum g\n`, 'POLICY_BAD_THRESHOLD', 2],
      [`${w('a')}group g 0 a\nquorum g\n`, 'POLICY_BAD_THRESHOLD', 2],
      [`${w('a')}group g 01 a\nquorum g\n`, 'POLICY_BAD_THRESHOLD', 2],
      [`${w('a')}group g most a\nquorum g\n`, 'POLICY_BAD_THRESHOLD', 2],
      [`${w('a')}group g any a a\nquorum g\n`, 'POLICY_DUPLICATE_MEMBER', 2],
      [`${w('a')}group g any a\ngroup h any a\nquorum h\n`, 'POLICY_DUPLICATE_MEMBER', 3],
      [`${w('a')}\n`, 'POLICY_QUORUM_MISSING', undefined],
      [`${w('a')}quorum a\nquorum none\n`, 'POLICY_QUORUM_REPEATED', 3],
      [`quorum none\r\n`, 'POLICY_CHARACTER', 1],
      [`quorum none\n\u0000\n`, 'POLICY_CHARACTER', 2],
      [`quorum none\n\u007f`, 'POLICY_CHARACTER', 2],
    ];
    for (const [text, expected, line] of cases) {
      expect(
        failure(() => parsePolicy(text)),
        text,
      ).toEqual({ code: expected, line });
    }
  });

  it('refuses invalid UTF-8 and oversized input', () => {
    expect(failure(() => parsePolicy(Uint8Array.of(0x71, 0xff, 0x0a)))?.code).toBe('POLICY_CHARACTER');
    expect(failure(() => parsePolicy('#'.repeat((1 << 20) + 1)))?.code).toBe('POLICY_TOO_LARGE');
    expect(parsePolicy(new TextEncoder().encode('# naïve ☃\nquorum none\n')).quorum).toBe('none');
  });

  it('needs no quorum for a list of logs (requireQuorum: false)', () => {
    const p = parsePolicy(`log ${log.verifierKey}\n`, { requireQuorum: false });
    expect(p.quorum).toBeUndefined();
    expect(failure(() => evaluateQuorum(p, []))?.code).toBe('POLICY_QUORUM_MISSING');
  });

  it('formats a policy that parses back to itself', () => {
    const p = parsePolicy(SPEC_EXAMPLE);
    const again = parsePolicy(formatPolicy(p));
    const strip = (x: Policy) => JSON.parse(JSON.stringify(x, (k, v) => (k === 'line' ? undefined : v)));
    expect(strip(again)).toEqual(strip(p));
  });

  it('formats random policies (witnesses, nested groups) that parse back identically', () => {
    const keys = Object.keys(witnesses);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(keys, { minLength: 1 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (ws, picks) => {
          // Build groups over names not yet used as members, each taking a random slice.
          let free = [...ws];
          const groups: string[] = [];
          picks.forEach((p, i) => {
            if (free.length === 0) return;
            const n = 1 + (p % free.length);
            const members = free.slice(0, n);
            const k = ['any', 'all', String(1 + (p % n))][p % 3]!;
            groups.push(`group g${i} ${k} ${members.join(' ')}`);
            free = [...free.slice(n), `g${i}`];
          });
          const text =
            `log ${log.verifierKey}\n` +
            ws.map((w) => `witness ${w} ${vkey(w)}\n`).join('') +
            groups.map((g) => `${g}\n`).join('') +
            `quorum ${free[free.length - 1] ?? 'none'}\n`;
          const p = parsePolicy(text);
          expect(formatPolicy(p)).toBe(text);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('throws only WitnessErrors on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          parsePolicy(s);
        } catch (e) {
          expect(isWitnessError(e)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('evaluateQuorum', () => {
  const p = parsePolicy(SPEC_EXAMPLE);

  it('needs 2 of the X witnesses and any Y witness (nested groups)', () => {
    expect(evaluateQuorum(p, ['X1', 'X2', 'Y3'])).toBe(true);
    expect(evaluateQuorum(p, ['X1', 'X3', 'Y1', 'Y2'])).toBe(true);
    expect(evaluateQuorum(p, ['X1', 'Y1', 'Y2', 'Y3'])).toBe(false);
    expect(evaluateQuorum(p, ['X1', 'X2', 'X3'])).toBe(false);
    expect(evaluateQuorum(p, [])).toBe(false);
  });

  it('reads a single witness quorum and quorum none', () => {
    const single = parsePolicy(`witness a ${vkey('X1')}\nquorum a\n`);
    expect(evaluateQuorum(single, ['a'])).toBe(true);
    expect(evaluateQuorum(single, ['b'])).toBe(false);
    expect(evaluateQuorum(parsePolicy('quorum none\n'), [])).toBe(true);
  });

  it('holds exactly when at least k members hold, for every k-of-n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.subarray(Object.keys(witnesses)), (k, signed) => {
        const names = Object.keys(witnesses);
        const text = `${names.map((n) => `witness ${n} ${vkey(n)}\n`).join('')}group g ${k} ${names.join(' ')}\nquorum g\n`;
        expect(evaluateQuorum(parsePolicy(text), signed)).toBe(signed.length >= k);
      }),
      { numRuns: 40 },
    );
  });
});

describe('checkQuorum', () => {
  const p = parsePolicy(SPEC_EXAMPLE);

  it('says who cosigned and whether the quorum holds', () => {
    const ok = checkQuorum(cosigned(['X1', 'X3', 'Y2']), p);
    expect(ok).toMatchObject({
      ok: true,
      origin: 'ledger.example/log',
      size: 5,
      witnesses: ['X1', 'X3', 'Y2'],
    });
    expect(ok.logKey).toBe(log.verifierKey);
    expect(ok.cosignatures).toEqual([
      { witness: 'X1', timestamp: 1_700_000_000 },
      { witness: 'X3', timestamp: 1_700_000_000 },
      { witness: 'Y2', timestamp: 1_700_000_000 },
    ]);
    const short = checkQuorum(cosigned(['X1', 'Y2']), p);
    expect(short).toMatchObject({ ok: false, witnesses: ['X1', 'Y2'] });
    expect(failure(() => requireQuorum(cosigned(['X1', 'Y2']), p))?.code).toBe('QUORUM_NOT_MET');
    expect(requireQuorum(cosigned(['X1', 'X2', 'Y1']), p).ok).toBe(true);
  });

  it('ignores cosignatures of witnesses the policy does not list', () => {
    const stranger = cosignerFromKey(generateSigningKey('stranger.example/w'));
    const note = cosigned(['X1', 'Y1']);
    const withStranger = addSignatures(note, [stranger.cosign(parseNote(note).text, 1)]);
    const r = checkQuorum(withStranger, p);
    expect(r).toMatchObject({ ok: false, witnesses: ['X1', 'Y1'] });
    expect(r.ignored.map((s) => s.name)).toEqual(['stranger.example/w']);
  });

  it("rejects the note when a listed witness's cosignature does not verify", () => {
    const note = cosigned(['X1', 'X2', 'Y1']);
    const text = parseNote(note).text;
    // X2's line replaced by its cosignature of another size; Y1's by one of another tree.
    const forged = addSignatures(note, [{ ...witnesses.X2!.cosign(text.replace('5\n', '6\n'), 1) }]);
    expect(failure(() => checkQuorum(forged, p))?.code).toBe('COSIGNATURE_INVALID');
    const other = new MemoryLog('ledger.example/log', log.key).grow(6);
    const replayed = addSignatures(note, [witnesses.Y1!.cosign(parseNote(other.checkpoint()).text, 1)]);
    expect(failure(() => checkQuorum(replayed, p))?.code).toBe('COSIGNATURE_INVALID');
  });

  it('refuses a checkpoint of another log, without the log signature, or with a bad one', () => {
    const stranger = new MemoryLog('other.example/log').grow(3);
    expect(failure(() => checkQuorum(stranger.checkpoint(), p))?.code).toBe('UNKNOWN_LOG');
    const impostor = new MemoryLog('ledger.example/log').grow(5); // right origin, other key
    expect(failure(() => checkQuorum(impostor.checkpoint(), p))?.code).toBe('LOG_SIGNATURE_MISSING');
    const note = cosigned(['X1', 'X2', 'Y1']);
    const tampered = note.replace(/\n5\n/, '\n6\n');
    expect(failure(() => checkQuorum(tampered, p))?.code).toBe('LOG_SIGNATURE_INVALID');
    expect(failure(() => checkQuorum('not a note', p))?.code).toBe('MALFORMED_NOTE');
  });

  it('accepts any listed log key of the origin (key rotation)', () => {
    const next = new MemoryLog('ledger.example/log', generateSigningKey('ledger.example/log')).grow(5);
    const rotated = parsePolicy(`log ${log.verifierKey}\nlog ${formatVerifierKey(next.key)}\nquorum none\n`);
    expect(checkQuorum(next.checkpoint(), rotated).logKey).toBe(next.verifierKey);
    expect(checkQuorum(log.checkpoint(), rotated).logKey).toBe(log.verifierKey);
  });

  it('refuses cosignatures from the future when asked to', () => {
    const note = cosigned(['X1', 'X2', 'Y1']);
    const now = () => 1_700_000_000_000 - 3_600_000;
    expect(failure(() => checkQuorum(note, p, { now, maxFutureSeconds: 60 }))?.code).toBe(
      'COSIGNATURE_FROM_FUTURE',
    );
    expect(checkQuorum(note, p, { now, maxFutureSeconds: 7200 }).ok).toBe(true);
  });
});
