import { MsgHdrsImpl, headers as natsHeaders } from '@nats-io/transport-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkSubject,
  decodeHeaders,
  durableNameFor,
  encodeHeaders,
  ENCODED_HEADER,
  KEY_HEADER,
  streamNameFor,
  subjectFamily,
} from './naming.ts';

// What arrives: the headers parsed back from their wire form, as the client does.
const overTheWire = (key: string | undefined, headers: Record<string, string>) => {
  const h = encodeHeaders(key, headers);
  return decodeHeaders(h === undefined ? undefined : MsgHdrsImpl.decode((h as MsgHdrsImpl).encode()));
};

describe('subjects and names', () => {
  it('puts a subject and its dead letters in one family', () => {
    expect(subjectFamily('civic-ledger.submissions')).toBe('civic-ledger.submissions');
    expect(subjectFamily('civic-ledger.submissions.dead-letter')).toBe('civic-ledger.submissions');
    expect(subjectFamily('a.dead-letter.dead-letter')).toBe('a');
    expect(subjectFamily('dead-letter')).toBe('dead-letter');
  });

  it('names a stream after the family, readable when the family allows it', () => {
    expect(streamNameFor('civic-ledger.submissions')).toBe('civic-ledger_submissions');
    expect(streamNameFor('civic-ledger.submissions.dead-letter')).toBe('civic-ledger_submissions');
    expect(streamNameFor('civic-ledger.appended', 'prod_')).toBe('prod_civic-ledger_appended');
  });

  it('never gives two families one stream name, nor a name JetStream refuses', () => {
    // `a.b` and `a_b` would both read `a_b`: the second gets a hash.
    expect(streamNameFor('a_b')).not.toBe(streamNameFor('a.b'));
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z_.-]{1,12}$/), fc.stringMatching(/^[a-z_.-]{1,12}$/), (x, y) => {
        const [a, b] = [x, y].map((s) => s.replace(/\.+/g, '.').replace(/^\.|\.$/g, '') || 'z');
        const na = streamNameFor(a!);
        expect(na).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
        if (subjectFamily(a!) !== subjectFamily(b!)) expect(na).not.toBe(streamNameFor(b!));
      }),
    );
    expect(streamNameFor(`x.${'long-token.'.repeat(20)}end`)).toHaveLength(64);
  });

  it('names a durable after its group, and keeps dead-letter and foreign-stream consumers apart', () => {
    expect(durableNameFor('sequencer', 'civic-ledger.submissions')).toBe('sequencer');
    expect(durableNameFor('v1.workers', 's')).toMatch(/^v1_workers_[0-9a-f]{8}$/);
    const dl = durableNameFor('sequencer', 'civic-ledger.submissions.dead-letter');
    expect(dl).toMatch(/^sequencer_dead-letter_[0-9a-f]{8}$/);
    expect(dl).not.toBe(durableNameFor('sequencer_dead-letter', 'civic-ledger.submissions'));
    expect(durableNameFor('g', 'a', false)).not.toBe(durableNameFor('g', 'b', false));
  });

  it('refuses subjects NATS would misread', () => {
    for (const bad of ['', 'a..b', '.a', 'a.', 'a b', 'a.*', 'a.>', 'a\tb']) {
      expect(() => checkSubject(bad)).toThrow(expect.objectContaining({ code: 'INVALID_SUBJECT' }));
    }
    expect(() => checkSubject('civic-ledger.submissions.dead-letter')).not.toThrow();
  });
});

describe('headers', () => {
  it('gives back the key and every header value exactly, whatever it holds', () => {
    // What NATS mangles (CR, LF, surrounding whitespace), what percent-encoding uses, and the rest.
    const value = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', ' ', '\t', '\r', '\n', '%', '%2', 'é', '✓', '\u00a0', ':') }),
      fc.string({ unit: 'grapheme' }),
    );
    fc.assert(
      fc.property(
        fc.option(value, { nil: undefined }),
        fc
          .dictionary(fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/), value)
          .filter((d) => !Object.keys(d).some((k) => /^nats-/i.test(k) || k.startsWith('civic-ledger-'))),
        (key, headers) => {
          expect(overTheWire(key, headers)).toEqual({ key, headers });
        },
      ),
    );
  });

  it('keeps a header named __proto__ as a header', () => {
    const headers = JSON.parse('{"__proto__":"x","y":"z"}') as Record<string, string>;
    expect(Object.keys(overTheWire(undefined, headers).headers)).toEqual(['__proto__', 'y']);
  });

  it('leaves plain values as they are on the wire', () => {
    const h = encodeHeaders('agency/cams', { 'trace-id': 'abc' })!;
    expect(h.get(KEY_HEADER)).toBe('agency/cams');
    expect(h.get('trace-id')).toBe('abc');
    expect(h.has(ENCODED_HEADER)).toBe(false);
    expect(encodeHeaders(undefined, {})).toBeUndefined();
  });

  it('refuses reserved names, invalid names and ill-formed values', () => {
    const bad = (headers: Record<string, string>) =>
      expect(() => encodeHeaders(undefined, headers)).toThrow(
        expect.objectContaining({ code: 'INVALID_HEADER' }),
      );
    bad({ 'Nats-Msg-Id': 'x' });
    bad({ [KEY_HEADER]: 'x' });
    bad({ 'with space': 'x' });
    bad({ 'a:b': 'x' });
    bad({ ok: '\ud800' });
  });

  it('drops the headers JetStream adds', () => {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'abc');
    h.set('x', 'y');
    expect(decodeHeaders(h)).toEqual({ key: undefined, headers: { x: 'y' } });
  });
});
