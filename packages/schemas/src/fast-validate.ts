// A schema-compiled acceptor: a predicate over JSON values (what JSON.parse returns) that
// says "zod would accept this value" several times faster than `safeParse`, because it
// builds no result object, no issue list and no copy of the value.
//
// Contract (one-sided, so a mistake can cost speed but never correctness): when
// `accepts(v)` is true, `schema.safeParse(v).success` is true. When it is false the caller
// must ask zod (the verifier then runs its reference decoder, which does). The acceptor is
// generated from the zod schema itself (`schema._zod.def`, `_zod.traits`), never from a
// second description of the event, and it mirrors zod 4's parse rules node by node:
// - string / number / boolean / null / never / literal / enum / optional / array / object
//   (strict or stripping) / union / discriminated union, with the checks regex,
//   min_length, max_length, greater_than, less_than, number_format safeint and refine;
// - a node or check it does not model (a record, a coercing schema, a pipe, a format
//   string, a superRefine, an exclusive union, anything newer) is handed to zod itself
//   (`node.safeParse(v).success`), which is exact because zod validates a value's members
//   independently of where the value sits;
// - where zod measures strings in code points (min/max length), the acceptor counts UTF-16
//   units, which is exact for strings without surrogates and stricter otherwise;
// - a refinement the schemas share (RFC 3339 time) may be answered by a faster function
//   that is never more lenient (`FASTER`), with the schema's own as the last word.
// Property tests (fast-validate.test.ts) compare it with zod on the demo city's events and
// on random mutations of them.
import { isRfc3339Utc } from './primitives.ts';

/** The zod 4 internals the compiler reads; everything else is opaque. */
interface Internals {
  def: { type: string; [k: string]: unknown };
  traits: Set<string>;
  values?: Set<unknown>;
  optin?: string;
  optout?: string;
  propValues?: Record<string, Set<unknown>>;
}

function internals(schema: unknown): Internals | undefined {
  const z = (schema as { _zod?: Partial<Internals> } | null | undefined)?._zod;
  return z && typeof z.def?.type === 'string' && z.traits instanceof Set ? (z as Internals) : undefined;
}

/** A check's internals: a def (with `check`, no `type`) and traits. */
function checkInternals(check: unknown): { def: { [k: string]: unknown }; traits: Set<string> } | undefined {
  const z = (check as { _zod?: { def?: unknown; traits?: unknown } } | null | undefined)?._zod;
  return z && typeof z.def === 'object' && z.def !== null && z.traits instanceof Set
    ? (z as { def: { [k: string]: unknown }; traits: Set<string> })
    : undefined;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const DIGITS_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
const two = (s: string, i: number) => (s.charCodeAt(i) - 0x30) * 10 + s.charCodeAt(i + 1) - 0x30;

/**
 * isRfc3339Utc for the common forms `YYYY-MM-DDTHH:MM:SSZ` and `YYYY-MM-DDTHH:MM:SS.fZ`
 * (1-9 fractional digits; years 100-9999, where Date.UTC and the proleptic Gregorian
 * calendar agree), by arithmetic; anything else is answered by isRfc3339Utc itself.
 */
export function fastRfc3339Utc(s: string): boolean {
  const n = s.length;
  if (n !== 20) {
    // A fraction: `.` then 1-9 digits before the Z; the rest as without one (checked in
    // place: this runs for every event, and a shortened copy of the string is garbage).
    if (n < 22 || n > 30 || s.charCodeAt(19) !== 0x2e || s.charCodeAt(n - 1) !== 0x5a) return isRfc3339Utc(s);
    for (let i = 20; i < n - 1; i++) if (!isDigit(s.charCodeAt(i))) return isRfc3339Utc(s);
  } else if (s.charCodeAt(19) !== 0x5a) return isRfc3339Utc(s);
  if (
    s.charCodeAt(4) !== 0x2d ||
    s.charCodeAt(7) !== 0x2d ||
    s.charCodeAt(10) !== 0x54 ||
    s.charCodeAt(13) !== 0x3a ||
    s.charCodeAt(16) !== 0x3a
  )
    return isRfc3339Utc(s);
  for (let k = 0; k < DIGITS_AT.length; k++) if (!isDigit(s.charCodeAt(DIGITS_AT[k]!))) return false;
  const year = two(s, 0) * 100 + two(s, 2);
  if (year < 100) return isRfc3339Utc(s);
  const month = two(s, 5);
  const day = two(s, 8);
  if (month < 1 || month > 12 || two(s, 11) > 23 || two(s, 14) > 59 || two(s, 17) > 59 || day < 1)
    return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days =
    month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

/**
 * `^<literal>[0-9a-f]{N}$` without flags (event hashes, digests): its literal prefix and N,
 * else undefined.
 */
export function hexPattern(re: RegExp): { prefix: string; digits: number } | undefined {
  if (re.flags !== '') return undefined;
  const m = /^\^([A-Za-z0-9:_]*)\[0-9a-f\]\{([1-9][0-9]{0,3})\}\$$/.exec(re.source);
  return m ? { prefix: m[1]!, digits: Number(m[2]) } : undefined;
}

const IS_HEX = new Uint8Array(128);
for (const c of '0123456789abcdef') IS_HEX[c.charCodeAt(0)] = 1;

/** Whether s[from..] is all lower-case hex digits. */
function hexFrom(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) if (IS_HEX[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** Faster stand-ins for refinements, keyed by the very function the schema holds. */
const FASTER = new Map<unknown, (v: never) => boolean>([[isRfc3339Utc, fastRfc3339Utc]]);

export interface AcceptorReport {
  /** Schema paths handed to zod's own safeParse. */
  delegated: string[];
}

export interface Acceptor {
  /** True only if the schema accepts `value` (a JSON value); false means "ask zod". */
  accepts: (value: unknown) => boolean;
  /** The generated JavaScript. */
  source: string;
  report: AcceptorReport;
}

/** Values the generated code refers to, by index. */
interface Tables {
  re: RegExp[];
  fn: ((v: never) => unknown)[];
  set: Set<unknown>[];
  map: Map<unknown, number>[];
  zod: ((v: unknown) => boolean)[];
}

class Compiler {
  readonly report: AcceptorReport = { delegated: [] };
  readonly functions: string[] = [];
  readonly tables: Tables = { re: [], fn: [], set: [], map: [], zod: [] };
  readonly #memo = new Map<unknown, string>();
  #next = 0;

  #add<K extends keyof Tables>(table: K, value: Tables[K][number]): number {
    return (this.tables[table] as unknown[]).push(value) - 1;
  }

  /** zod itself, for a node the compiler does not model. */
  #delegate(schema: unknown, path: string): string[] {
    const parse = (schema as { safeParse?: unknown } | null)?.safeParse;
    if (typeof parse !== 'function') throw new TypeError(`no safeParse at ${path || '/'}`);
    this.report.delegated.push(path || '/');
    const i = this.#add(
      'zod',
      (v) => (parse as (v: unknown) => { success: boolean }).call(schema, v).success,
    );
    return [`if (!Z[${i}](v)) return false;`];
  }

  /** The name of a function `(v) => boolean` accepting what `schema` accepts. */
  node(schema: unknown, path: string): string {
    const known = this.#memo.get(schema);
    if (known !== undefined) return known;
    const name = `p${this.#next++}`;
    // Named before its body is built, so a recursive schema refers to itself.
    this.#memo.set(schema, name);
    const z = internals(schema);
    let body: string[] | undefined;
    // A schema that is its own check (format strings such as z.email()) runs code we do not model.
    if (z && !z.traits.has('$ZodCheck')) {
      const checks = this.#checks(z);
      const base = checks && this.#base(z, path);
      if (base && checks) body = [...base, ...checks];
    }
    body ??= this.#delegate(schema, path);
    this.functions.push(`function ${name}(v) {\n  ${body.join('\n  ')}\n  return true;\n}`);
    return name;
  }

  /** Statements rejecting what fails the node's checks, or undefined when one is not modelled. */
  #checks(z: Internals): string[] | undefined {
    const out: string[] = [];
    const checks = z.def['checks'];
    if (checks === undefined) return out;
    if (!Array.isArray(checks)) return undefined;
    for (const check of checks) {
      const c = checkInternals(check);
      if (c === undefined) return undefined;
      const d = c.def;
      const kind = d['check'];
      if (kind === 'string_format' && d['format'] === 'regex' && c.traits.has('$ZodCheckRegex')) {
        const re = d['pattern'];
        if (!(re instanceof RegExp)) return undefined;
        const hex = hexPattern(re);
        if (hex !== undefined) {
          // The same language as the pattern, by a table lookup per character.
          out.push(
            `if (v.length !== ${hex.prefix.length + hex.digits} || !v.startsWith(${JSON.stringify(hex.prefix)}) || !HEX(v, ${hex.prefix.length})) return false;`,
          );
          continue;
        }
        const i = this.#add('re', re);
        // zod resets lastIndex, which only global and sticky patterns read.
        out.push(
          re.global || re.sticky
            ? `R[${i}].lastIndex = 0; if (!R[${i}].test(v)) return false;`
            : `if (!R[${i}].test(v)) return false;`,
        );
      } else if (kind === 'max_length' && c.traits.has('$ZodCheckMaxLength')) {
        // Code points never outnumber UTF-16 units: within the limit in units is within it.
        const max = d['maximum'];
        if (typeof max !== 'number') return undefined;
        out.push(`if (v.length > ${max}) return false;`);
      } else if (kind === 'min_length' && c.traits.has('$ZodCheckMinLength')) {
        // Units count code points exactly when no surrogate pair can be among them.
        const min = d['minimum'];
        if (typeof min !== 'number') return undefined;
        out.push(
          `if (v.length < ${min} || (typeof v === "string" && v.length < ${2 * min} && HIGH.test(v))) return false;`,
        );
      } else if (
        (kind === 'greater_than' && c.traits.has('$ZodCheckGreaterThan')) ||
        (kind === 'less_than' && c.traits.has('$ZodCheckLessThan'))
      ) {
        const bound = d['value'];
        if (typeof bound !== 'number' || Number.isNaN(bound)) return undefined;
        const inclusive = d['inclusive'] === true;
        const op = kind === 'greater_than' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
        const b = Object.is(bound, -0) ? '-0' : String(bound);
        out.push(`if (!(v ${op} ${b})) return false;`);
      } else if (
        kind === 'number_format' &&
        d['format'] === 'safeint' &&
        c.traits.has('$ZodCheckNumberFormat')
      ) {
        out.push(`if (!Number.isSafeInteger(v)) return false;`);
      } else if (kind === 'custom' && c.traits.has('$ZodCustom') && typeof d['fn'] === 'function') {
        // A refinement: zod reports an issue exactly when fn's result is falsy (a promise
        // would make the parse asynchronous, which safeParse refuses).
        const fn = FASTER.get(d['fn']) ?? (d['fn'] as (v: never) => unknown);
        const i = this.#add('fn', fn);
        out.push(`{ const r = F[${i}](v); if (r !== true && (!r || r instanceof Promise)) return false; }`);
      } else {
        return undefined;
      }
    }
    return out;
  }

  #base(z: Internals, path: string): string[] | undefined {
    const def = z.def;
    if (def['coerce']) return undefined;
    switch (def.type) {
      case 'string':
        return z.traits.has('$ZodString') ? [`if (typeof v !== "string") return false;`] : undefined;
      case 'number':
        return z.traits.has('$ZodNumber')
          ? [`if (typeof v !== "number" || !Number.isFinite(v)) return false;`]
          : undefined;
      case 'boolean':
        return z.traits.has('$ZodBoolean') ? [`if (typeof v !== "boolean") return false;`] : undefined;
      case 'null':
        return z.traits.has('$ZodNull') ? [`if (v !== null) return false;`] : undefined;
      case 'never':
        return z.traits.has('$ZodNever') ? [`return false;`] : undefined;
      case 'literal':
      case 'enum': {
        if (!z.traits.has('$ZodLiteral') && !z.traits.has('$ZodEnum')) return undefined;
        const values = z.values;
        if (!(values instanceof Set)) return undefined;
        return [`if (!S[${this.#add('set', values)}].has(v)) return false;`];
      }
      case 'optional': {
        if (!z.traits.has('$ZodOptional')) return undefined;
        const inner = internals(def['innerType']);
        if (inner === undefined || inner.optin === 'defaulted') return undefined;
        const p = this.node(def['innerType'], path);
        // An exact optional hands undefined to its inner schema too.
        return z.traits.has('$ZodExactOptional')
          ? [`if (!${p}(v)) return false;`]
          : [`if (v !== undefined && !${p}(v)) return false;`];
      }
      case 'array': {
        if (!z.traits.has('$ZodArray')) return undefined;
        const p = this.node(def['element'], `${path}/*`);
        return [
          `if (!Array.isArray(v)) return false;`,
          `for (let i = 0; i < v.length; i++) if (!${p}(v[i])) return false;`,
        ];
      }
      case 'object':
        return this.#object(z, path);
      case 'union':
        return this.#union(z, path);
      default:
        return undefined;
    }
  }

  #object(z: Internals, path: string): string[] | undefined {
    if (!z.traits.has('$ZodObject')) return undefined;
    const def = z.def;
    const shape = def['shape'] as Record<string, unknown> | undefined;
    if (shape === null || typeof shape !== 'object') return undefined;
    if (Object.getOwnPropertySymbols(shape).length > 0) return undefined;
    const catchall = def['catchall'];
    let strict: boolean;
    if (catchall === undefined) strict = false;
    else if (internals(catchall)?.def.type === 'never') strict = true;
    else return undefined;
    const keys = Object.keys(shape);
    if (keys.includes('__proto__')) return undefined;
    const out = [`if (typeof v !== "object" || v === null || Array.isArray(v)) return false;`];
    for (const key of keys) {
      const m = internals(shape[key]);
      if (m === undefined) return undefined;
      const p = this.node(shape[key], `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);
      const k = JSON.stringify(key);
      // As zod reads members: `in` for presence, a plain read for the value; an absent
      // member is skipped only when it is optional both ways.
      out.push(
        m.optin === 'optional' && m.optout === 'optional'
          ? `if (${k} in v && !${p}(v[${k}])) return false;`
          : `if (!(${k} in v) || !${p}(v[${k}])) return false;`,
      );
    }
    if (strict) {
      // As zod's catchall: every enumerable key, own or inherited, must be a member.
      const i = this.#add('set', new Set(keys));
      out.push(`for (const k in v) if (!S[${i}].has(k)) return false;`);
    }
    return out;
  }

  #union(z: Internals, path: string): string[] | undefined {
    const def = z.def;
    const options = def['options'];
    if (!Array.isArray(options) || options.length === 0) return undefined;
    if (z.traits.has('$ZodXor')) return undefined;
    if (z.traits.has('$ZodDiscriminatedUnion')) {
      const disc = def['discriminator'];
      if (typeof disc !== 'string' || def['unionFallback']) return undefined;
      // The option each discriminator value picks, as zod's discriminatorMap builds it (a
      // value claimed twice picks none: -1).
      const map = new Map<unknown, number>();
      const names: string[] = [];
      for (const option of options) {
        const values = internals(option)?.propValues?.[disc];
        if (!(values instanceof Set) || values.size === 0) return undefined;
        const j = names.push(this.node(option, `${path}(${[...values].map(String).join('|')})`)) - 1;
        for (const value of values) map.set(value, map.has(value) ? -1 : j);
      }
      const i = this.#add('map', map);
      const d = JSON.stringify(disc);
      return [
        `if (typeof v !== "object" || v === null || Array.isArray(v)) return false;`,
        `switch (M[${i}].get(v[${d}])) {`,
        ...names.map((n, j) => `  case ${j}: return ${n}(v);`),
        `  default: return false;`,
        `}`,
      ];
    }
    if (!z.traits.has('$ZodUnion')) return undefined;
    // A plain union accepts what any option accepts.
    const names = options.map((o, i) => this.node(o, `${path}|${i}`));
    return [`if (!(${names.map((n) => `${n}(v)`).join(' || ')})) return false;`];
  }
}

const HIGH = /[\ud800-\udbff]/;

/** Compiles the acceptor of a zod 4 schema (see the module comment for its contract). */
export function compileAcceptor(schema: unknown): Acceptor {
  const never: Acceptor = { accepts: () => false, source: '', report: { delegated: ['/'] } };
  const c = new Compiler();
  let root: string;
  try {
    root = c.node(schema, '');
  } catch {
    // Nothing to compile against (not a zod schema we can read): always ask zod.
    return never;
  }
  const source = ['"use strict";', ...c.functions, `return ${root};`].join('\n');
  let pred: (v: unknown) => boolean;
  try {
    const { re, fn, set, map, zod } = c.tables;
    pred = new Function('R', 'F', 'S', 'M', 'Z', 'HIGH', 'HEX', source)(
      re,
      fn,
      set,
      map,
      zod,
      HIGH,
      hexFrom,
    ) as typeof pred;
  } catch {
    // No code generation here (a locked-down runtime): always ask zod.
    return { ...never, source };
  }
  return {
    accepts(value) {
      try {
        return pred(value);
      } catch {
        // A refinement that throws: zod decides (and reports it its own way).
        return false;
      }
    },
    source,
    report: c.report,
  };
}
