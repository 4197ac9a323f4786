// decodeItem is decodeSubmission, faster for plain objects: the same decoded event or the
// same refusal (code, message, issues) for every input, plain or not.
import { decodeSubmission } from '@civic-ledger/events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeItem } from './decode.ts';
import { TestEmitter } from './testing.ts';

const agency = new TestEmitter('transport-agency');
const base = () =>
  agency.next({
    type: 'collect',
    source: 'transport-agency/cameras/north-07',
    dataset: { id: 'transport-agency/traffic-counts', version: `sha256:${'a'.repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: 12,
  } as never);

function outcome(decode: () => unknown): unknown {
  try {
    const d = decode() as { signature: Uint8Array };
    return { ...d, signature: Buffer.from(d.signature).toString('hex') };
  } catch (e) {
    const err = e as { code?: string; message: string; issues?: unknown };
    return { code: err.code, message: err.message, issues: err.issues };
  }
}

/** `input` may be a function making the input, for inputs that change as they are read. */
function expectSame(input: unknown, options?: { now: number }): void {
  const make = () => (typeof input === 'function' ? (input as () => unknown)() : input);
  expect(outcome(() => decodeItem(make(), options))).toEqual(
    outcome(() => decodeSubmission(make(), options)),
  );
}

class Wire {
  event: unknown;
  signature: string;
  constructor(event: unknown, signature: string) {
    this.event = event;
    this.signature = signature;
  }
}

describe('decodeItem', () => {
  it('decodes plain submissions, texts and bytes exactly as decodeSubmission does', () => {
    const w = base();
    expectSame(w);
    expectSame(JSON.parse(JSON.stringify(w)));
    expectSame(JSON.stringify(w));
    expectSame(new TextEncoder().encode(JSON.stringify(w)));
    expectSame(w, { now: Date.parse('2026-11-02T07:00:00Z') }); // TIME_IN_FUTURE
  });

  it('keeps the signature text for the leaf only when it is the canonical base64 of its bytes', () => {
    const w = base();
    const canonical = Buffer.from(w.signature, 'base64').toString('base64');
    expect(decodeItem(w).signatureText).toBe(canonical);
    // The same 64 bytes with the last character's spare bits set: accepted, not kept.
    const last = 'AQgw'.indexOf(canonical[85]!);
    const loose = `${canonical.slice(0, 85)}${'BRhx'[last]}==`;
    expect(Buffer.from(loose, 'base64')).toEqual(Buffer.from(canonical, 'base64'));
    const d = decodeItem({ ...w, signature: loose });
    expect(d.signatureText).toBeUndefined();
    expect(Buffer.from(d.signature).toString('base64')).toBe(canonical);
    expectSame({ ...w, signature: loose });
  });

  it('refuses exactly as decodeSubmission does, for values that are not plain data too', () => {
    const w = base();
    const e = w.event as Record<string, unknown>;
    // A getter answering differently on a second read: each decoder reads it once.
    const withGetter = () => {
      let reads = 0;
      return Object.defineProperty({ ...e }, 'records', {
        enumerable: true,
        get: () => (++reads === 1 ? 12 : -1),
      });
    };
    const withSymbol = { ...e, [Symbol('x')]: 1 };
    const hidden = Object.defineProperty({ ...e }, 'extra', { value: 1, enumerable: false });
    const inherited = Object.assign(Object.create({ extra: 1 }) as object, e);
    const cases: unknown[] = [
      null,
      42,
      [],
      { event: e },
      { event: e, signature: w.signature, extra: 1 },
      { event: e, signature: 'AAAA' },
      { event: [], signature: w.signature },
      { event: { ...e, seq: 0 }, signature: w.signature },
      { event: { ...e, unknown: true }, signature: w.signature },
      { event: { ...e, records: Number.NaN }, signature: w.signature },
      () => ({ event: withGetter(), signature: w.signature }),
      { event: withSymbol, signature: w.signature },
      { event: hidden, signature: w.signature },
      { event: inherited, signature: w.signature },
      { event: Object.assign(Object.create(null) as object, e), signature: w.signature },
      { event: new Proxy(e, {}), signature: w.signature },
      new Wire(e, w.signature),
      new Proxy({ event: e, signature: w.signature }, {}),
      JSON.parse(
        `{"event":${JSON.stringify(e).replace('{', '{"__proto__":{},')},"signature":"${w.signature}"}`,
      ),
      JSON.parse(`{"__proto__":1,"event":${JSON.stringify(e)},"signature":"${w.signature}"}`),
    ];
    for (const c of cases) expectSame(c);
  });

  it('agrees with decodeSubmission on random changes to a submission', () => {
    const w = base();
    const e = w.event as Record<string, unknown>;
    const keys = Object.keys(e);
    fc.assert(
      fc.property(
        fc.constantFrom(...keys, 'extra'),
        fc.oneof(fc.jsonValue(), fc.constant(undefined)),
        fc.boolean(),
        (key, value, drop) => {
          const event: Record<string, unknown> = { ...e };
          if (drop) delete event[key];
          else event[key] = value;
          expectSame({ event, signature: w.signature });
        },
      ),
      { numRuns: 300 },
    );
  });
});
