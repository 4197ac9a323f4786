import { canonicalize } from '@civic-ledger/canonical-json';
import { generateSigningKey, sha256Portable, toHex } from '@civic-ledger/crypto';
import { EXAMPLE_EVENTS, SchemaError } from '@civic-ledger/schemas';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSubmission, hashEvent, signEvent, verifyEventSignature } from './index.ts';

const key = generateSigningKey('transport-agency/k1');
const other = generateSigningKey('transport-agency/k2');
const transfer = EXAMPLE_EVENTS.transfer;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof SchemaError) return e.code;
    throw e;
  }
  return undefined;
}

describe('event hash', () => {
  it('is SHA-256 over the RFC 8785 canonical JSON, the same as the portable (browser) path', () => {
    const { hash, canonical } = hashEvent(transfer);
    expect(canonical).toBe(canonicalize(transfer));
    expect(hash).toBe(toHex(sha256Portable(new TextEncoder().encode(canonical))));
  });

  it('does not depend on key order or whitespace of the submitted JSON', () => {
    const signed = signEvent(transfer, key);
    const reordered = Object.fromEntries(Object.entries(transfer).reverse());
    const text = JSON.stringify({ signature: signed.wire.signature, event: reordered }, null, 2);
    expect(decodeSubmission(text).hash).toBe(signed.hash);
  });
});

describe('signatures', () => {
  it('sign -> decode -> verify', () => {
    const signed = signEvent(transfer, key);
    const decoded = decodeSubmission(JSON.stringify(signed.wire));
    expect(decoded.hash).toBe(signed.hash);
    expect(verifyEventSignature(decoded.hash, decoded.signature, key)).toBe(true);
    expect(verifyEventSignature(decoded.hash, decoded.signature, other)).toBe(false);
  });

  it('any change to the event breaks the signature', () => {
    const signed = signEvent(transfer, key);
    fc.assert(
      fc.property(fc.constantFrom('seq', 'recipient', 'purpose', 'time'), (field) => {
        const changed = {
          ...transfer,
          [field]: {
            seq: 4,
            recipient: 'vendor-a',
            purpose: 'city:Advertising',
            time: '2026-11-02T08:15:01Z',
          }[field],
        };
        const decoded = decodeSubmission({ event: changed, signature: signed.wire.signature });
        expect(verifyEventSignature(decoded.hash, decoded.signature, key)).toBe(false);
      }),
    );
  });

  it('refuses to sign with a key the event does not name', () => {
    expect(codeOf(() => signEvent(transfer, other))).toBe('SCHEMA_INVALID');
  });
});

describe('decodeSubmission', () => {
  const good = signEvent(transfer, key).wire;

  it.each([
    ['not JSON', '{"event":', 'INVALID_JSON'],
    ['duplicate key', `{"signature":"${good.signature}","event":{"v":1,"v":1}}`, 'INVALID_JSON'],
    ['no signature', JSON.stringify({ event: good.event }), 'SCHEMA_INVALID'],
    ['short signature', JSON.stringify({ event: good.event, signature: 'AAAA' }), 'SCHEMA_INVALID'],
    ['extra member', JSON.stringify({ ...good, extra: 1 }), 'SCHEMA_INVALID'],
    ['array', '[]', 'SCHEMA_INVALID'],
  ])('%s -> %s', (_n, text, code) => {
    expect(codeOf(() => decodeSubmission(text))).toBe(code);
  });

  it('names event fields with an /event prefix', () => {
    try {
      decodeSubmission({ event: { ...transfer, recipient: 'Bad Org' }, signature: good.signature });
      expect.unreachable();
    } catch (e) {
      expect((e as SchemaError).issues.map((i) => i.path)).toContain('/event/recipient');
    }
  });
});
