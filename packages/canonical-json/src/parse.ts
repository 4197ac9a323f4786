// A strict RFC 8259 parser that refuses what JCS cannot express and what JSON.parse
// silently accepts: duplicate member names (JSON.parse keeps the last one, so two
// parties could read two different documents from the same bytes), unpaired surrogates
// (raw or escaped), and number literals beyond the double range (JSON.parse yields
// Infinity). Input is attacker-controlled: every refusal carries the character offset.
import { CanonicalJsonError, type CanonicalJsonErrorCode } from './errors.ts';
import { canonicalize, DEFAULT_MAX_DEPTH } from './serialize.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface ParseOptions {
  /** Deepest nesting of arrays/objects accepted; default 64. */
  maxDepth?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly: malformed sequences, encoded surrogates and a BOM are refused. */
export function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new CanonicalJsonError('JCS_INVALID_UTF8', 'byte order mark is not allowed', 0);
  }
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new CanonicalJsonError('JCS_INVALID_UTF8', 'input is not valid UTF-8', undefined, { cause });
  }
}

/** Parses JSON text (a string, or UTF-8 bytes) strictly. See the module comment for what is refused. */
export function parseJson(input: string | Uint8Array, options?: ParseOptions): JsonValue {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  return new Parser(text, options?.maxDepth ?? DEFAULT_MAX_DEPTH).parseDocument();
}

/**
 * Parses JSON that must already be in canonical form (RFC 8785): the bytes a signature
 * or hash commits to. Returns the value and its canonical text.
 */
export function parseCanonical(
  input: string | Uint8Array,
  options?: ParseOptions,
): { value: JsonValue; text: string } {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  const value = parseJson(text, options);
  const canonical = canonicalize(value, options);
  if (canonical !== text) {
    let at = 0;
    while (at < text.length && text.charCodeAt(at) === canonical.charCodeAt(at)) at++;
    throw new CanonicalJsonError(
      'JCS_NOT_CANONICAL',
      `input is not in RFC 8785 canonical form (offset ${at})`,
      at,
    );
  }
  return { value, text };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

class Parser {
  private pos = 0;
  private readonly text: string;
  private readonly maxDepth: number;

  constructor(text: string, maxDepth: number) {
    this.text = text;
    this.maxDepth = maxDepth;
  }

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail('JCS_INVALID_JSON', 'unexpected data after the JSON value');
    return value;
  }

  private fail(code: CanonicalJsonErrorCode, reason: string, at = this.pos): never {
    throw new CanonicalJsonError(code, `${reason} at offset ${at}`, at);
  }

  private skipWhitespace(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  private parseValue(depth: number): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.parseObject(depth);
      case 0x5b: // [
        return this.parseArray(depth);
      case QUOTE:
        return this.parseString();
      case 0x74: // t
        return this.parseLiteral('true', true);
      case 0x66: // f
        return this.parseLiteral('false', false);
      case 0x6e: // n
        return this.parseLiteral('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return this.fail(
          'JCS_INVALID_JSON',
          Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character',
        );
    }
  }

  private parseLiteral<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('JCS_INVALID_JSON', 'invalid literal');
    this.pos += word.length;
    return value;
  }

  private enter(depth: number): void {
    if (depth >= this.maxDepth) this.fail('JCS_TOO_DEEP', `nesting deeper than ${this.maxDepth}`);
  }

  private parseObject(depth: number): { [key: string]: JsonValue } {
    this.enter(depth);
    this.pos++; // {
    const obj: { [key: string]: JsonValue } = {};
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return obj;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== QUOTE) this.fail('JCS_INVALID_JSON', 'expected a member name');
      const keyAt = this.pos;
      const key = this.parseString();
      if (Object.hasOwn(obj, key))
        this.fail('JCS_DUPLICATE_KEY', `duplicate member name ${JSON.stringify(key)}`, keyAt);
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail('JCS_INVALID_JSON', "expected ':'");
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue(depth + 1);
      // A plain assignment of "__proto__" would replace the prototype instead of
      // creating a member; define it as an own property the way JSON.parse does.
      if (key === '__proto__') {
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        obj[key] = value;
      }
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === 0x7d) {
        this.pos++;
        return obj;
      } else {
        this.fail('JCS_INVALID_JSON', "expected ',' or '}'");
      }
    }
  }

  private parseArray(depth: number): JsonValue[] {
    this.enter(depth);
    this.pos++; // [
    const arr: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return arr;
    }
    for (;;) {
      arr.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === 0x5d) {
        this.pos++;
        return arr;
      } else {
        this.fail('JCS_INVALID_JSON', "expected ',' or ']'");
      }
    }
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos + 1;
    let p = start;
    // Fast path: no escapes, which is nearly every string in an event.
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === QUOTE) {
        const s = t.slice(start, p);
        this.pos = p + 1;
        if (!s.isWellFormed())
          this.fail('JCS_LONE_SURROGATE', 'string contains an unpaired surrogate', start - 1);
        return s;
      }
      if (c === BACKSLASH) break;
      if (c < 0x20) this.fail('JCS_INVALID_JSON', 'unescaped control character in string', p);
      if (Number.isNaN(c)) this.fail('JCS_INVALID_JSON', 'unterminated string', p);
      p++;
    }
    let out = t.slice(start, p);
    for (;;) {
      const c = t.charCodeAt(p);
      if (Number.isNaN(c)) this.fail('JCS_INVALID_JSON', 'unterminated string', p);
      if (c === QUOTE) break;
      if (c < 0x20) this.fail('JCS_INVALID_JSON', 'unescaped control character in string', p);
      if (c !== BACKSLASH) {
        out += t[p];
        p++;
        continue;
      }
      const e = t.charCodeAt(p + 1);
      p += 2;
      switch (e) {
        case QUOTE:
          out += '"';
          break;
        case BACKSLASH:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const hex = t.slice(p, p + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('JCS_INVALID_JSON', 'invalid \\u escape', p - 2);
          out += String.fromCharCode(parseInt(hex, 16));
          p += 4;
          break;
        }
        default:
          this.fail('JCS_INVALID_JSON', 'invalid escape sequence', p - 2);
      }
    }
    this.pos = p + 1;
    if (!out.isWellFormed())
      this.fail('JCS_LONE_SURROGATE', 'string contains an unpaired surrogate', start - 1);
    return out;
  }

  private parseNumber(): number {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++;
    const first = t.charCodeAt(p);
    if (first === 0x30) {
      p++;
    } else if (first >= 0x31 && first <= 0x39) {
      while (isDigit(t.charCodeAt(p))) p++;
    } else {
      this.fail('JCS_INVALID_JSON', 'invalid number', p);
    }
    if (t.charCodeAt(p) === 0x2e) {
      p++;
      if (!isDigit(t.charCodeAt(p)))
        this.fail('JCS_INVALID_JSON', 'invalid number: digit expected after "."', p);
      while (isDigit(t.charCodeAt(p))) p++;
    }
    const e = t.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      p++;
      const sign = t.charCodeAt(p);
      if (sign === 0x2b || sign === 0x2d) p++;
      if (!isDigit(t.charCodeAt(p)))
        this.fail('JCS_INVALID_JSON', 'invalid number: digit expected in exponent', p);
      while (isDigit(t.charCodeAt(p))) p++;
    }
    const n = Number(t.slice(start, p));
    if (!Number.isFinite(n))
      this.fail('JCS_NUMBER_OUT_OF_RANGE', 'number is outside the IEEE-754 double range', start);
    this.pos = p;
    return n;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
