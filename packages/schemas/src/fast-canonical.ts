// Schema-compiled RFC 8785 serialization of validated events, in the manner of
// fast-json-stringify: a validated event has only the members its strict schema names, of
// the types it names, so member order (UTF-16 code units, RFC 8785 section 3.2.3) is fixed
// when the serializer is compiled, properties are read directly, and strings that the
// schema confines to characters JSON never escapes (ids, hashes, digests, timestamps,
// enums) are copied without looking at them.
//
// The plans are derived from the zod schemas themselves (`schema._zod.def`), never from a
// second description of the event: a construct the compiler does not understand (a record
// like `ext`, a non-discriminated union, a loose object, anything new) is written by the
// generic `canonicalize`, so a schema change can cost speed but never correctness.
//
// Contract: for every value `event.safeParse` accepts, the result is exactly
// `canonicalize(value)`, or the same CanonicalJsonError `canonicalize(value)` throws (a
// present optional member holding `undefined`, say). Whenever the compiled code meets
// anything it did not expect (an own member it did not write, a non-plain prototype, an
// undefined value, a string needing care it cannot vouch for), it gives up and the whole
// value goes through the generic path, which then produces the text or the error.
// For values the schema does not accept the output is unspecified: validate first.
import { canonicalize, DEFAULT_MAX_DEPTH, type SerializeOptions } from '@civic-ledger/canonical-json';
import { event, type Event } from './events.ts';
import { isRfc3339Utc, RFC3339_UTC } from './primitives.ts';

/** The zod 4 internals the compiler reads (`schema._zod`); everything else is opaque. */
interface ZodInternals {
  _zod: {
    def: { type: string; [k: string]: unknown };
    /** Literal and enum schemas: the exact set of accepted values. */
    values?: Set<unknown>;
    /** 'optional' when the schema accepts an absent member. */
    optin?: string;
  };
}

function internals(schema: unknown): ZodInternals['_zod'] | undefined {
  const z = (schema as Partial<ZodInternals> | null | undefined)?._zod;
  return z && typeof z.def?.type === 'string' ? z : undefined;
}

// ---------------------------------------------------------------------------------------
// Which strings need no escaping work

/** True for a UTF-16 code unit that JSON.stringify copies as is and that cannot pair badly. */
function unitIsPlain(u: number): boolean {
  return u >= 0x20 && u !== 0x22 && u !== 0x5c && (u < 0xd800 || u > 0xdfff);
}

function rangeIsPlain(lo: number, hi: number): boolean {
  if (lo > hi) return true;
  if (hi > 0xffff) return false;
  if (lo < 0x20) return false;
  if (lo <= 0x22 && hi >= 0x22) return false;
  if (lo <= 0x5c && hi >= 0x5c) return false;
  return hi < 0xd800 || lo > 0xdfff;
}

const HEX = /^[0-9a-fA-F]+$/;

/**
 * True when every string `re.test` accepts consists only of characters JSON.stringify
 * leaves alone (no control characters, quote, backslash or surrogates), so that
 * `'"' + s + '"'` is its JSON text. Conservative: a construct it does not follow (a
 * negated class, `.`, flags that widen matching, an unanchored pattern, a top-level
 * alternative, backreferences, \p{...}) makes it answer false.
 */
export function patternAdmitsOnlyPlainText(re: RegExp): boolean {
  // i would add case variants; m, g, y, v change anchoring or class syntax.
  if (!/^[dsu]*$/.test(re.flags)) return false;
  const unicode = re.flags.includes('u');
  const src = re.source;
  let i = 0;

  // One escape after a backslash at src[i - 1]; returns the [lo, hi] range it matches
  // (null for a zero-width assertion) and the index after it, or undefined to give up.
  function escape(inClass: boolean): { lo: number; hi: number } | null | undefined {
    const c = src[i];
    if (c === undefined) return undefined;
    i++;
    switch (c) {
      case 'd':
        return { lo: 0x30, hi: 0x39 };
      case 'b':
      case 'B':
        return inClass ? undefined : null; // [\b] is a backspace
      case 'u': {
        if (src[i] === '{') {
          if (!unicode) return undefined;
          const end = src.indexOf('}', i);
          const hex = src.slice(i + 1, end);
          if (end < 0 || !HEX.test(hex)) return undefined;
          i = end + 1;
          const cp = parseInt(hex, 16);
          return { lo: cp, hi: cp };
        }
        const hex = src.slice(i, i + 4);
        if (hex.length !== 4 || !HEX.test(hex)) return undefined;
        i += 4;
        const u = parseInt(hex, 16);
        return { lo: u, hi: u };
      }
      case 'x': {
        const hex = src.slice(i, i + 2);
        if (hex.length !== 2 || !HEX.test(hex)) return undefined;
        i += 2;
        const u = parseInt(hex, 16);
        return { lo: u, hi: u };
      }
      default:
        // Identity escapes of punctuation only (\/ \. \- \+ ...): letters and digits are
        // classes, controls or backreferences (\w, \s, \n, \1, \k<...>, \p{...}), and
        // those we do not vouch for; \w is left out on purpose, it would be fine but
        // gives little.
        if (/[A-Za-z0-9_]/.test(c)) return undefined;
        return { lo: c.charCodeAt(0), hi: c.charCodeAt(0) };
    }
  }

  function classAtom(): { lo: number; hi: number } | undefined {
    const c = src[i];
    if (c === undefined) return undefined;
    if (c === '\\') {
      i++;
      const r = escape(true);
      // \d is a set, not a character: only allowed alone, never as a range end.
      return r ?? undefined;
    }
    i++;
    const u = c.charCodeAt(0);
    return { lo: u, hi: u };
  }

  if (src[0] !== '^') return false;
  i = 1;
  let depth = 0;
  while (i < src.length) {
    const c = src[i]!;
    switch (c) {
      case '\\': {
        i++;
        const r = escape(false);
        if (r === undefined) return false;
        if (r !== null && !rangeIsPlain(r.lo, r.hi)) return false;
        break;
      }
      case '[': {
        i++;
        if (src[i] === '^') return false;
        while (src[i] !== ']') {
          if (i >= src.length) return false;
          const start = i;
          const a = classAtom();
          if (a === undefined) return false;
          const wasSet = src[start] === '\\' && src[start + 1] === 'd';
          if (src[i] === '-' && src[i + 1] !== ']' && i + 1 < src.length) {
            i++;
            const bStart = i;
            const b = classAtom();
            if (b === undefined || wasSet || (src[bStart] === '\\' && src[bStart + 1] === 'd')) return false;
            if (!rangeIsPlain(a.lo, b.hi)) return false;
          } else if (!rangeIsPlain(a.lo, a.hi)) {
            return false;
          }
        }
        i++;
        break;
      }
      case '(': {
        i++;
        if (src[i] === '?') {
          const rest = src.slice(i + 1);
          if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!')) i += 2;
          else if (rest.startsWith('<=') || rest.startsWith('<!')) i += 3;
          else if (/^<[A-Za-z_$][\w$]*>/.test(rest)) i = src.indexOf('>', i) + 1;
          else return false; // modifiers such as (?i:...)
        }
        depth++;
        break;
      }
      case ')':
        if (--depth < 0) return false;
        i++;
        break;
      case '|':
        if (depth === 0) return false;
        i++;
        break;
      case '$':
        // Only as the last character: anchored at both ends, the match is the whole string.
        return depth === 0 && i === src.length - 1;
      case '^':
      case '.':
        return false;
      case '*':
      case '+':
      case '?':
        i++;
        break;
      case '{': {
        const q = /^\{\d+(?:,\d*)?\}/.exec(src.slice(i));
        if (q) i += q[0].length;
        else if (unicode) return false;
        else i++;
        break;
      }
      default:
        if (!unitIsPlain(c.charCodeAt(0))) return false;
        i++;
    }
  }
  return false; // never reached the closing $
}

/**
 * Refinements known to accept only strings a given pattern matches. Keyed by the very
 * function the schema holds, so a schema that stops using it stops being trusted.
 */
const PREDICATE_PATTERNS = new Map<unknown, RegExp>([[isRfc3339Utc, RFC3339_UTC]]);

/** True when the schema (a string schema) accepts only plain-text strings. */
function stringIsPlain(def: { [k: string]: unknown }): boolean {
  const checks = Array.isArray(def['checks']) ? (def['checks'] as unknown[]) : [];
  for (const check of checks) {
    // Checks have a def but no type: read it directly.
    const cd = (check as { _zod?: { def?: { [k: string]: unknown } } } | null)?._zod?.def;
    // A check with a `when` may be skipped without an issue: it proves nothing.
    if (cd === undefined || cd === null || cd['when'] !== undefined) continue;
    if (cd['check'] === 'string_format' && cd['format'] === 'regex' && cd['pattern'] instanceof RegExp) {
      if (patternAdmitsOnlyPlainText(cd['pattern'])) return true;
    }
    if (cd['check'] === 'custom') {
      const p = PREDICATE_PATTERNS.get(cd['fn']);
      if (p !== undefined && patternAdmitsOnlyPlainText(p)) return true;
    }
  }
  return false;
}

function isPlainString(v: unknown): v is string {
  return typeof v === 'string' && JSON.stringify(v) === `"${v}"` && v.isWellFormed();
}

/** The canonical text of a literal value, or undefined when it is not a JSON primitive. */
function literalText(v: unknown): string | undefined {
  if (v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
    return JSON.stringify(v);
  }
  if (typeof v === 'string' && v.isWellFormed()) return JSON.stringify(v);
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Code generation

/**
 * A piece of an output string: constant text, or a JavaScript expression yielding a string
 * (`raw` when it is a value read from the input, a string only if the input is validated).
 */
type Piece = { text: string } | { code: string; raw?: true };

function joinPieces(pieces: Piece[]): string {
  const merged: Piece[] = [];
  for (const p of pieces) {
    const last = merged[merged.length - 1];
    if ('text' in p && last !== undefined && 'text' in last)
      merged[merged.length - 1] = { text: last.text + p.text };
    else merged.push(p);
  }
  // A string first keeps `+` a string concatenation whatever the values are.
  const first = merged[0];
  if (first === undefined || ('raw' in first && first.raw)) merged.unshift({ text: '' });
  return merged.map((p) => ('text' in p ? JSON.stringify(p.text) : p.code)).join(' + ');
}

/** What the compiler did where; for tests and for reading. */
export interface CanonicalPlanReport {
  /** Schema paths written by the generic canonicalize. */
  generic: string[];
  /** Schema paths of strings that are checked and escaped when needed. */
  escaped: string[];
}

class Compiler {
  readonly functions: string[] = [];
  readonly report: CanonicalPlanReport = { generic: [], escaped: [] };
  private readonly memo = new Map<unknown, Map<number, string | undefined>>();
  private next = 0;

  private name(prefix: string): string {
    return `${prefix}${this.next++}`;
  }

  /** Pieces writing the value held in the variable `v` (read it as often as needed). */
  value(schema: unknown, v: string, depth: number, path: string): Piece[] {
    const z = internals(schema);
    const generic = (): Piece[] => {
      this.report.generic.push(path || '/');
      return [{ code: `sub(${v}, ${depth})` }];
    };
    if (z === undefined) return generic();
    const def = z.def;
    // A coercing schema accepts values of other types than it returns.
    if (def['coerce']) return generic();
    switch (def.type) {
      case 'string':
        if (stringIsPlain(def)) return [{ text: '"' }, { code: v, raw: true }, { text: '"' }];
        this.report.escaped.push(path || '/');
        return [{ code: `str(${v})` }];
      case 'number':
        return [{ code: `num(${v})` }];
      case 'boolean':
        return [{ code: `(${v} === true ? "true" : ${v} === false ? "false" : bail())` }];
      case 'null':
        return [{ code: `(${v} === null ? "null" : bail())` }];
      case 'literal':
      case 'enum': {
        const values = [...(z.values ?? [])];
        if (values.length === 1) {
          const text = literalText(values[0]);
          if (text !== undefined) return [{ text }];
        }
        if (values.length > 0 && values.every(isPlainString)) {
          return [{ text: '"' }, { code: v, raw: true }, { text: '"' }];
        }
        if (values.length > 0 && values.every((x) => typeof x === 'string')) return [{ code: `str(${v})` }];
        return generic();
      }
      case 'object':
      case 'array':
      case 'union': {
        // A container at the generic path's depth limit: let it refuse.
        if (depth >= DEFAULT_MAX_DEPTH) return generic();
        const fn =
          def.type === 'object'
            ? this.object(schema, depth, path)
            : def.type === 'array'
              ? this.array(schema, depth, path)
              : this.union(schema, depth, path);
        return fn === undefined ? generic() : [{ code: `${fn}(${v})` }];
      }
      default:
        return generic();
    }
  }

  private cached(schema: unknown, depth: number, make: () => string | undefined): string | undefined {
    // The same schema at the same depth compiles to one function (depth matters only near
    // the limit, but keying on it keeps that exact).
    let byDepth = this.memo.get(schema);
    if (byDepth === undefined) this.memo.set(schema, (byDepth = new Map()));
    if (byDepth.has(depth)) return byDepth.get(depth);
    const fn = make();
    byDepth.set(depth, fn);
    return fn;
  }

  private object(schema: unknown, depth: number, path: string): string | undefined {
    const def = internals(schema)!.def;
    // Only strict objects: any other object schema accepts members it does not name,
    // which the generic path would write.
    if (internals(def['catchall'])?.def.type !== 'never') return undefined;
    const shape = def['shape'] as Record<string, unknown> | undefined;
    if (shape === null || typeof shape !== 'object') return undefined;
    if (Object.getOwnPropertySymbols(shape).length > 0) return undefined;
    const keys = Object.keys(shape).sort(); // UTF-16 code units, as RFC 8785 orders them
    if (keys.some((k) => k === '__proto__' || !k.isWellFormed())) return undefined;
    return this.cached(schema, depth, () => {
      const fn = this.name('o');
      const lines: string[] = [
        `const p = Object.getPrototypeOf(o);`,
        `if (p !== Object.prototype && p !== null) return bail();`,
      ];
      let required = 0;
      // Text not yet appended to `s`; `s` is declared by the first flush.
      let pending: Piece[] = [{ text: '{' }];
      let declared = false;
      const flush = () => {
        if (declared && pending.length === 0) return;
        lines.push(declared ? `s += ${joinPieces(pending)};` : `let s = ${joinPieces(pending)};`);
        declared = true;
        pending = [];
      };
      // Whether a member was written before this one: no, yes, or known only at run time.
      let before: 'no' | 'yes' | 'maybe' = 'no';
      keys.forEach((key, n) => {
        const member = shape[key];
        const mz = internals(member);
        const v = `v${n}`;
        const name = JSON.stringify(key);
        const label = JSON.stringify(key) + ':';
        const memberPath = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
        lines.push(`const ${v} = o[${name}];`);
        if (mz?.optin !== 'optional') {
          required++;
          // Present in a validated value; undefined means it was not validated.
          lines.push(`if (${v} === undefined) return bail();`);
          if (before === 'yes') pending.push({ text: ',' });
          // Only right after optional members, so `s` holds exactly what they wrote.
          if (before === 'maybe') pending.push({ code: `(s.length === 1 ? "" : ",")` });
          pending.push({ text: label }, ...this.value(member, v, depth + 1, memberPath));
          before = 'yes';
          return;
        }
        const inner = mz.def.type === 'optional' ? mz.def['innerType'] : member;
        const sep: Piece =
          before === 'yes'
            ? { text: ',' + label }
            : before === 'no'
              ? { text: label }
              : { code: `(s.length === 1 ? ${JSON.stringify(label)} : ${JSON.stringify(',' + label)})` };
        flush();
        lines.push(
          `if (${v} !== undefined) {`,
          `  n++;`,
          `  s += ${joinPieces([sep, ...this.value(inner, v, depth + 1, memberPath)])};`,
          // A present member holding undefined is refused by the generic path: go there.
          `} else if (${name} in o) return bail();`,
        );
        if (before === 'no') before = 'maybe';
      });
      pending.push({ text: '}' });
      lines.push(
        // The strict schema accepted every own enumerable member, so each is one it names
        // and was read above; as many of them as were written means exactly those were
        // (not some non-enumerable or inherited property only a direct read sees).
        `if (Object.keys(o).length !== n) return bail();`,
        declared ? `return s + ${joinPieces(pending)};` : `return ${joinPieces(pending)};`,
      );
      this.functions.push(`function ${fn}(o) {\n  let n = ${required};\n  ${lines.join('\n  ')}\n}`);
      return fn;
    });
  }

  private array(schema: unknown, depth: number, path: string): string | undefined {
    const def = internals(schema)!.def;
    return this.cached(schema, depth, () => {
      const fn = this.name('a');
      const item = this.value(def['element'], 'x', depth + 1, `${path}/*`);
      const plain = item.length === 3 && 'raw' in item[1]!;
      const body = (
        plain
          ? [
              // Plain strings need no call per item (Array.prototype.join is slower still).
              `const len = a.length;`,
              `if (len === 0) return "[]";`,
              `let s = "[\\"" + a[0];`,
              `for (let i = 1; i < len; i++) s += "\\",\\"" + a[i];`,
              `return s + "\\"]";`,
            ]
          : [
              `const len = a.length;`,
              `if (len === 0) return "[]";`,
              `let x = a[0];`,
              `let s = ${joinPieces([{ text: '[' }, ...item])};`,
              `for (let i = 1; i < len; i++) {`,
              `  x = a[i];`,
              `  s += ${joinPieces([{ text: ',' }, ...item])};`,
              `}`,
              `return s + "]";`,
            ]
      ).join('\n  ');
      this.functions.push(`function ${fn}(a) {\n  ${body}\n}`);
      return fn;
    });
  }

  private union(schema: unknown, depth: number, path: string): string | undefined {
    const def = internals(schema)!.def;
    const disc = def['discriminator'];
    const options = def['options'];
    // Only discriminated unions without fallback matching: the discriminator alone picks
    // the option that validated the value.
    if (typeof disc !== 'string' || def['unionFallback'] || !Array.isArray(options)) return undefined;
    const cases = new Map<unknown, unknown>();
    for (const option of options) {
      const oz = internals(option);
      const shape = oz?.def['shape'] as Record<string, unknown> | undefined;
      const dz = internals(shape?.[disc]);
      if (oz?.def.type !== 'object' || dz === undefined || dz.optin !== undefined) return undefined;
      if (dz.def.type !== 'literal' && dz.def.type !== 'enum') return undefined;
      for (const value of dz.values ?? []) {
        if (literalText(value) === undefined || cases.has(value)) return undefined;
        cases.set(value, option);
      }
    }
    return this.cached(schema, depth, () => {
      const fn = this.name('u');
      const lines = [`switch (o[${JSON.stringify(disc)}]) {`];
      for (const [value, option] of cases) {
        const label = `${path}(${String(value)})`;
        const target = this.value(option, 'o', depth, label);
        lines.push(`  case ${JSON.stringify(value)}: return ${joinPieces(target)};`);
      }
      lines.push(`  default: return bail();`, `}`);
      this.functions.push(`function ${fn}(o) {\n  ${lines.join('\n  ')}\n}`);
      return fn;
    });
  }
}

// Thrown by compiled code when it meets what it did not expect; never escapes this module.
class GiveUp {}
const GIVE_UP = new GiveUp();

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NEEDS_CARE = /[\u0000-\u001f"\\\ud800-\udfff]/;

const DEPTH_OPTIONS: SerializeOptions[] = Array.from({ length: DEFAULT_MAX_DEPTH + 1 }, (_, d) => ({
  maxDepth: DEFAULT_MAX_DEPTH - d,
}));

function bail(): never {
  throw GIVE_UP;
}

/** A string the schema does not confine: the generic path's quoting. */
function str(s: unknown): string {
  if (typeof s !== 'string') throw GIVE_UP;
  if (!NEEDS_CARE.test(s)) return '"' + s + '"';
  if (!s.isWellFormed()) throw GIVE_UP;
  return JSON.stringify(s);
}

/** ECMAScript Number::toString, which is JSON.stringify's for finite numbers (-0 is "0"). */
function num(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) throw GIVE_UP;
  return '' + n;
}

/** A subtree the compiler does not model, at `depth` in the whole value. */
function sub(v: unknown, depth: number): string {
  return canonicalize(v, DEPTH_OPTIONS[depth] ?? { maxDepth: 0 });
}

/** A compiled serializer, its generated source, and what it delegates. */
export interface CompiledCanonical {
  /** `canonicalize(value)` for every value the schema accepts: the same text or error. */
  write: (value: unknown) => string;
  /** The compiled path alone: its text, or undefined where it gives up (for tests). */
  attempt: (value: unknown) => string | undefined;
  /** The generated JavaScript. */
  source: string;
  report: CanonicalPlanReport;
}

/**
 * Compiles the RFC 8785 serializer of values `schema` accepts. Its `write` equals
 * `canonicalize(value)` (text or thrown error) for every value `schema.safeParse` accepts.
 */
export function compileCanonical(schema: unknown): CompiledCanonical {
  const c = new Compiler();
  const root = c.value(schema, 'v', 0, '');
  const source = [
    `"use strict";`,
    ...c.functions,
    `return function write(v) {\n  return ${joinPieces(root)};\n};`,
  ].join('\n');
  let fast: (value: unknown) => string;
  try {
    fast = new Function('bail', 'str', 'num', 'sub', source)(bail, str, num, sub) as (
      value: unknown,
    ) => string;
  } catch {
    // No code generation here (a locked-down runtime): the generic path is always right.
    fast = (value) => canonicalize(value);
  }
  return {
    write(value) {
      try {
        return fast(value);
      } catch {
        // Whatever went wrong, the generic path decides: the same text, or the same error.
        return canonicalize(value);
      }
    },
    attempt(value) {
      try {
        return fast(value);
      } catch {
        return undefined;
      }
    },
    source,
    report: c.report,
  };
}

let compiledEvent: CompiledCanonical | undefined;

/** The serializer compiled from the `event` schema (compiled on first use). */
export function eventSerializer(): CompiledCanonical {
  return (compiledEvent ??= compileCanonical(event));
}

/**
 * The RFC 8785 canonical text of an event that `event.safeParse` accepted (the value given
 * to it, or the one it returned): exactly what `canonicalize` gives, several times faster.
 * Throws the CanonicalJsonError `canonicalize` would (e.g. for an optional member present
 * with the value undefined). Output for values the schema refuses is unspecified.
 */
export function canonicalEventText(e: Event): string {
  return (compiledEvent ??= compileCanonical(event)).write(e);
}
