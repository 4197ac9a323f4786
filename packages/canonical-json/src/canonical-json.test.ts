import canonicalizeReference from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, canonicalizeToBytes, CanonicalJsonError, parseCanonical, parseJson } from './index.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CanonicalJsonError) return e.code;
    throw e;
  }
  return undefined;
}

// Examples published in RFC 8785 (https://www.rfc-editor.org/rfc/rfc8785).
describe('RFC 8785 published examples', () => {
  it('section 3.2.2: serializes the sample structure exactly', () => {
    const input = `{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`;
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalize(parseJson(input))).toBe(expected);
  });

  it('section 3.2.4: the sample as UTF-8 bytes', () => {
    const value = parseJson(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    const rfcHex = `
      7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
      75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
      5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
      65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
      5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
      30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`.replace(/\s+/g, '');
    expect(Buffer.from(canonicalizeToBytes(value)).toString('hex')).toBe(rfcHex);
  });

  it('section 3.2.3: sorts member names by UTF-16 code units', () => {
    const input = `{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    // (Object.values would reorder the integer-like key "1"; compare the text itself.)
    const order = [...canonicalize(parseJson(input)).matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    expect(order).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(canonicalize(parseJson(input))).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // Appendix B: IEEE-754 bit patterns and their canonical text.
  const appendixB: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  const fromBits = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0);

  it.each(appendixB)('appendix B: %s serializes as %s', (bits, text) => {
    expect(canonicalize(fromBits(bits))).toBe(text);
    // and the text parses back to the same double
    expect(Object.is(parseJson(text), fromBits(bits)) || fromBits(bits) === 0).toBe(true);
  });

  it.each([
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
  ])('appendix B: %s (%s) is refused', (bits) => {
    expect(codeOf(() => canonicalize(fromBits(bits)))).toBe('JCS_NON_FINITE_NUMBER');
  });
});

describe('serialization refusals', () => {
  it.each([
    ['NaN', NaN, 'JCS_NON_FINITE_NUMBER'],
    ['-Infinity', -Infinity, 'JCS_NON_FINITE_NUMBER'],
    ['undefined', undefined, 'JCS_UNSUPPORTED_VALUE'],
    ['BigInt', 10n, 'JCS_UNSUPPORTED_VALUE'],
    ['function', () => 1, 'JCS_UNSUPPORTED_VALUE'],
    ['symbol', Symbol('x'), 'JCS_UNSUPPORTED_VALUE'],
    ['Date', new Date(0), 'JCS_UNSUPPORTED_VALUE'],
    ['Map', new Map(), 'JCS_UNSUPPORTED_VALUE'],
    ['lone high surrogate', 'a\ud800b', 'JCS_LONE_SURROGATE'],
    ['lone low surrogate', '\udc00', 'JCS_LONE_SURROGATE'],
  ])('%s is refused with a stable code', (_name, value, code) => {
    expect(codeOf(() => canonicalize(value))).toBe(code);
    expect(codeOf(() => canonicalize({ nested: [value] }))).toBe(code);
  });

  it('names the JSON Pointer of the offending value', () => {
    try {
      canonicalize({ a: [1, { 'b/c': undefined }] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CanonicalJsonError);
      expect((e as CanonicalJsonError).at).toBe('/a/1/b~1c');
    }
  });

  it('refuses a lone surrogate in a member name', () => {
    expect(codeOf(() => canonicalize({ '\ud800': 1 }))).toBe('JCS_LONE_SURROGATE');
  });

  it('refuses cycles and excessive depth', () => {
    const a: Record<string, unknown> = {};
    a['self'] = { back: a };
    expect(codeOf(() => canonicalize(a))).toBe('JCS_CYCLE');
    let deep: unknown = 1;
    for (let i = 0; i < 65; i++) deep = [deep];
    expect(codeOf(() => canonicalize(deep))).toBe('JCS_TOO_DEEP');
    expect(codeOf(() => canonicalize(deep, { maxDepth: 100 }))).toBeUndefined();
  });

  it('accepts objects without a prototype and keeps "__proto__" as a member', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['b'] = 1;
    o['a'] = 2;
    expect(canonicalize(o)).toBe('{"a":2,"b":1}');
    expect(canonicalize(parseJson('{"__proto__":{"x":1},"a":0}'))).toBe('{"__proto__":{"x":1},"a":0}');
  });
});

describe('strict parsing', () => {
  it.each([
    ['duplicate key', '{"a":1,"a":2}', 'JCS_DUPLICATE_KEY'],
    ['duplicate key via escape', '{"a":1,"\\u0061":2}', 'JCS_DUPLICATE_KEY'],
    ['nested duplicate', '{"x":[{"k":1,"k":1}]}', 'JCS_DUPLICATE_KEY'],
    ['duplicate __proto__', '{"__proto__":1,"__proto__":2}', 'JCS_DUPLICATE_KEY'],
    ['escaped lone surrogate', '"\\ud800"', 'JCS_LONE_SURROGATE'],
    ['escaped reversed pair', '"\\udc00\\ud800"', 'JCS_LONE_SURROGATE'],
    ['raw lone surrogate', '"\ud800"', 'JCS_LONE_SURROGATE'],
    ['lone surrogate in key', '{"\\udfff":1}', 'JCS_LONE_SURROGATE'],
    ['number overflow', '1e309', 'JCS_NUMBER_OUT_OF_RANGE'],
    ['negative overflow', '-1.8e308', 'JCS_NUMBER_OUT_OF_RANGE'],
    ['NaN literal', 'NaN', 'JCS_INVALID_JSON'],
    ['Infinity literal', 'Infinity', 'JCS_INVALID_JSON'],
    ['leading zero', '01', 'JCS_INVALID_JSON'],
    ['plus sign', '+1', 'JCS_INVALID_JSON'],
    ['bare dot', '1.', 'JCS_INVALID_JSON'],
    ['bare exponent', '1e', 'JCS_INVALID_JSON'],
    ['trailing comma', '[1,]', 'JCS_INVALID_JSON'],
    ['trailing object comma', '{"a":1,}', 'JCS_INVALID_JSON'],
    ['single quotes', "{'a':1}", 'JCS_INVALID_JSON'],
    ['control char in string', '"a\nb"', 'JCS_INVALID_JSON'],
    ['bad escape', '"\\x41"', 'JCS_INVALID_JSON'],
    ['short unicode escape', '"\\u12"', 'JCS_INVALID_JSON'],
    ['unterminated', '"abc', 'JCS_INVALID_JSON'],
    ['trailing data', '{} {}', 'JCS_INVALID_JSON'],
    ['empty', '', 'JCS_INVALID_JSON'],
    ['comment', '{"a":1 /* c */}', 'JCS_INVALID_JSON'],
  ])('%s is refused', (_name, text, code) => {
    expect(codeOf(() => parseJson(text))).toBe(code);
  });

  it('refuses invalid UTF-8, encoded surrogates and a byte order mark', () => {
    expect(codeOf(() => parseJson(new Uint8Array([0x22, 0xff, 0x22])))).toBe('JCS_INVALID_UTF8');
    expect(codeOf(() => parseJson(new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22])))).toBe('JCS_INVALID_UTF8');
    expect(codeOf(() => parseJson(new Uint8Array([0xef, 0xbb, 0xbf, 0x31])))).toBe('JCS_INVALID_UTF8');
    expect(parseJson(new TextEncoder().encode('{"é":"😀"}'))).toEqual({ é: '😀' });
  });

  it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
    expect(codeOf(() => parseJson('['.repeat(100000)))).toBe('JCS_TOO_DEEP');
    expect(codeOf(() => parseJson('['.repeat(10) + ']'.repeat(10)))).toBeUndefined();
  });

  it('reports the offset of the problem', () => {
    try {
      parseJson('{"a":1,"a":2}');
      expect.unreachable();
    } catch (e) {
      expect((e as CanonicalJsonError).at).toBe(7);
    }
  });

  it('parses a "__proto__" member as data, never as a prototype', () => {
    const v = parseJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('parseCanonical accepts canonical bytes and refuses anything else', () => {
    expect(parseCanonical('{"a":1,"b":[true,null]}').value).toEqual({ a: 1, b: [true, null] });
    for (const text of ['{"b":1,"a":2}', '{"a": 1}', '{"a":1.0}', '{"a":"\\u0041"}', '[1e2]', ' 1']) {
      expect(
        codeOf(() => parseCanonical(text)),
        text,
      ).toBe('JCS_NOT_CANONICAL');
    }
  });
});

// JSON values JCS can express: no lone surrogates, no -0 (it canonicalizes to 0, so it
// cannot survive a round trip as a distinct value), finite doubles only.
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.integer(),
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary' }), tie('value'), { maxKeys: 6, noNullPrototype: true }),
  ),
})).value;

function reorderAndSpace(v: unknown, rnd: () => number): string {
  const ws = () => [' ', '\n', '\t', '\r\n', ''][Math.floor(rnd() * 5)]!;
  if (Array.isArray(v))
    return `[${ws()}${v.map((x) => reorderAndSpace(x, rnd)).join(`${ws()},${ws()}`)}${ws()}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).sort(() => rnd() - 0.5);
    return `{${ws()}${entries.map(([k, x]) => `${JSON.stringify(k)}${ws()}:${ws()}${reorderAndSpace(x, rnd)}`).join(`,${ws()}`)}${ws()}}`;
  }
  // Numbers written in another valid spelling where possible (exponent form).
  if (typeof v === 'number' && rnd() < 0.5 && v !== 0) return v.toExponential();
  return JSON.stringify(v);
}

describe('properties', () => {
  it('key order, whitespace and number spelling of the input never change the output', () => {
    fc.assert(
      fc.property(jsonValue, fc.integer(), (v, seed) => {
        let s = seed;
        const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
        expect(canonicalize(parseJson(reorderAndSpace(v, rnd)))).toBe(canonicalize(v));
      }),
      { numRuns: 500 },
    );
  });

  it('canonicalizing twice is the identity', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const once = canonicalize(v);
        expect(canonicalize(parseJson(once))).toBe(once);
        expect(parseCanonical(once).text).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('parse(canonical(x)) deep-equals x', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        expect(parseJson(canonicalize(v))).toStrictEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the reference implementation (npm canonicalize) on every JCS-expressible value', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        expect(canonicalize(v)).toBe(canonicalizeReference(v));
      }),
      { numRuns: 500 },
    );
  });

  it('parses exactly what JSON.parse parses when the input is free of duplicates and lone surrogates', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        let expected: unknown;
        try {
          expected = JSON.parse(text);
        } catch {
          return;
        }
        expect(parseJson(text)).toStrictEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a CanonicalJsonError on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
        ),
        (text) => {
          try {
            parseJson(text);
          } catch (e) {
            expect(e).toBeInstanceOf(CanonicalJsonError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
