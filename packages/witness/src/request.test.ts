import { parseCheckpoint, parseNote } from '@civic-ledger/signed-note';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWitnessError } from './errors.ts';
import { MemoryLog } from './memory-log.ts';
import {
  formatAddCheckpointRequest,
  formatSignatureLines,
  parseAddCheckpointRequest,
  parseSignatureLines,
  parseTreeSizeBody,
} from './request.ts';

// The example request and response bodies of c2sp.org/tlog-witness.
const SPEC_REQUEST = `old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
`;
const SPEC_RESPONSE = `— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==
— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==
— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==
`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isWitnessError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('add-checkpoint request bodies', () => {
  it('parses the example of the spec and formats it back byte for byte', () => {
    const r = parseAddCheckpointRequest(SPEC_REQUEST);
    expect(r.oldSize).toBe(20852014);
    expect(r.proof).toHaveLength(4);
    expect(r.proof.every((h) => h.length === 32)).toBe(true);
    const note = parseNote(r.checkpoint);
    expect(parseCheckpoint(note.text)).toMatchObject({
      origin: 'example.com/behind-the-sofa',
      size: 20852163,
    });
    expect(note.signatures).toHaveLength(2);
    expect(formatAddCheckpointRequest(r)).toBe(SPEC_REQUEST);
    expect(parseAddCheckpointRequest(new TextEncoder().encode(SPEC_REQUEST))).toEqual(r);
  });

  it('round trips real requests of every size pair', () => {
    const log = new MemoryLog('rt.example/log').grow(40);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), (a, b) => {
        const [from, to] = a <= b ? [a, b] : [b, a];
        const body = log.addCheckpointRequest(from, to);
        const r = parseAddCheckpointRequest(body);
        expect(r.oldSize).toBe(from);
        expect(r.proof).toEqual(log.consistencyProof(from, to));
        expect(r.checkpoint).toBe(log.checkpoint(to));
        expect(formatAddCheckpointRequest(r)).toBe(body);
      }),
      { numRuns: 80 },
    );
  });

  it('refuses malformed bodies with MALFORMED_REQUEST', () => {
    const note = new MemoryLog('m.example/log').grow(1).checkpoint();
    const hash = Buffer.alloc(32, 1).toString('base64');
    for (const body of [
      `old 1\n${note}`, // no empty line after the header
      `\n\n${note}`,
      `old 01\n\n${note}`,
      `old -1\n\n${note}`,
      `old  1\n\n${note}`,
      `Old 1\n\n${note}`,
      `old 1 \n\n${note}`,
      `old 9007199254740992\n\n${note}`,
      `old 1\n${hash.slice(0, -1)}\n\n${note}`,
      `old 1\n${Buffer.alloc(31).toString('base64')}\n\n${note}`,
      `old 1\n${Buffer.alloc(32).toString('base64url')}x\n\n${note}`,
      `old 1\n${`${hash}\n`.repeat(64)}\n${note}`,
      `old 1\n\n`,
    ]) {
      expect(
        codeOf(() => parseAddCheckpointRequest(body)),
        JSON.stringify(body.slice(0, 40)),
      ).toBe('MALFORMED_REQUEST');
    }
    expect(parseAddCheckpointRequest(`old 1\n${`${hash}\n`.repeat(63)}\n${note}`).proof).toHaveLength(63);
    expect(codeOf(() => parseAddCheckpointRequest(Uint8Array.of(0x6f, 0xff)))).toBe('MALFORMED_REQUEST');
    expect(codeOf(() => parseAddCheckpointRequest(`old 1\n\n${note}`, { maxBytes: 10 }))).toBe(
      'MALFORMED_REQUEST',
    );
  });
});

describe('responses', () => {
  it('parses the example response of the spec into its three signature lines', () => {
    const lines = parseSignatureLines(SPEC_RESPONSE);
    expect(lines.map((s) => s.name)).toEqual([
      'witness.example/w1',
      'witness.example/w1',
      'witness.example/w2',
    ]);
    expect(formatSignatureLines(lines)).toBe(SPEC_RESPONSE);
  });

  it('refuses anything but signature lines ending in newlines', () => {
    const [line] = SPEC_RESPONSE.split('\n');
    for (const body of ['', line!, `${line}\n\n`, `hello\n`, `— x\n`]) {
      expect(
        codeOf(() => parseSignatureLines(body)),
        JSON.stringify(body),
      ).toBe('WITNESS_BAD_RESPONSE');
    }
  });

  it('reads the 409 body: a decimal size and a newline', () => {
    expect(parseTreeSizeBody('20852014\n')).toBe(20852014);
    expect(parseTreeSizeBody('0\n')).toBe(0);
    for (const body of ['12', '012\n', '-1\n', 'x\n', '1 \n']) {
      expect(codeOf(() => parseTreeSizeBody(body))).toBe('WITNESS_BAD_RESPONSE');
    }
  });
});
