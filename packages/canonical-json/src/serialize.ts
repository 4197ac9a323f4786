// RFC 8785 serialization. Strings and numbers go through the engine's own JSON.stringify,
// which implements exactly the ECMAScript serialization JCS specifies (RFC 8785 section
// 3.2.2); what this file adds is the member ordering and the refusals.
import { CanonicalJsonError, type CanonicalJsonErrorCode } from './errors.ts';

export const DEFAULT_MAX_DEPTH = 64;

export interface SerializeOptions {
  /** Deepest nesting of arrays/objects accepted; default 64. */
  maxDepth?: number;
}

// Thrown inside the recursion; each container on the way out prepends its key, so the
// hot path keeps no path bookkeeping at all.
class Refusal {
  readonly code: CanonicalJsonErrorCode;
  readonly reason: string;
  path = '';
  constructor(code: CanonicalJsonErrorCode, reason: string) {
    this.code = code;
    this.reason = reason;
  }
}

// Characters JSON.stringify would escape, plus surrogates (which need the well-formedness
// check). Most strings in an event (ids, hex digests, timestamps) contain none, and then
// quoting is a plain concatenation.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const NEEDS_CARE = /[\u0000-\u001f"\\\ud800-\udfff]/;

function quote(s: string): string {
  if (!NEEDS_CARE.test(s)) return '"' + s + '"';
  if (!s.isWellFormed()) throw new Refusal('JCS_LONE_SURROGATE', 'string contains an unpaired surrogate');
  return JSON.stringify(s);
}

// Member names ordered by UTF-16 code units (RFC 8785 section 3.2.3); JavaScript's `<` on
// strings compares exactly those. Objects in events have a handful of keys, for which an
// insertion sort beats Array.prototype.sort's generic comparator.
function sortByCodeUnits(keys: string[]): string[] {
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

function escapePointer(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * The RFC 8785 canonical JSON text of `value`.
 * Accepts null, booleans, finite numbers, strings without lone surrogates, arrays and
 * plain objects (prototype Object.prototype or null). Everything else is refused with a
 * CanonicalJsonError whose `at` is the JSON Pointer of the offending value.
 */
export function canonicalize(value: unknown, options?: SerializeOptions): string {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  try {
    return write(value, 0);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    const at = e.path === '' ? '/' : e.path;
    // A cycle shows up as runaway depth; only then is it worth telling the two apart.
    if (e.code === 'JCS_TOO_DEEP' && pathRepeatsAnObject(value, e.path)) {
      throw new CanonicalJsonError('JCS_CYCLE', `value contains a cycle at ${at}`, at);
    }
    throw new CanonicalJsonError(e.code, `${e.reason} at ${at}`, at);
  }

  function write(v: unknown, depth: number): string {
    switch (typeof v) {
      case 'string':
        return quote(v);
      case 'number':
        if (!Number.isFinite(v))
          throw new Refusal('JCS_NON_FINITE_NUMBER', `${v} cannot be expressed in JSON`);
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'object':
        if (v === null) return 'null';
        if (depth >= maxDepth) throw new Refusal('JCS_TOO_DEEP', `nesting deeper than ${maxDepth}`);
        return Array.isArray(v) ? writeArray(v, depth) : writeObject(v, depth);
      default:
        throw new Refusal('JCS_UNSUPPORTED_VALUE', `${typeof v} cannot be expressed in JSON`);
    }
  }

  function writeArray(arr: unknown[], depth: number): string {
    let out = '[';
    for (let i = 0; i < arr.length; i++) {
      if (i > 0) out += ',';
      try {
        out += write(arr[i], depth + 1);
      } catch (e) {
        if (e instanceof Refusal) e.path = `/${i}${e.path}`;
        throw e;
      }
    }
    return out + ']';
  }

  function writeObject(v: object, depth: number): string {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new Refusal('JCS_UNSUPPORTED_VALUE', 'only plain objects and arrays can be serialized');
    }
    const obj = v as Record<string, unknown>;
    const keys = sortByCodeUnits(Object.keys(obj));
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (i > 0) out += ',';
      try {
        out += quote(k) + ':' + write(obj[k], depth + 1);
      } catch (e) {
        if (e instanceof Refusal) e.path = `/${escapePointer(k)}${e.path}`;
        throw e;
      }
    }
    return out + '}';
  }
}

function pathRepeatsAnObject(root: unknown, pointer: string): boolean {
  const seen = new Set<unknown>();
  let node: unknown = root;
  for (const token of pointer.split('/').slice(1)) {
    if (seen.has(node)) return true;
    seen.add(node);
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    node = (node as Record<string, unknown>)[key];
  }
  return seen.has(node);
}

const encoder = new TextEncoder();

/** UTF-8 bytes of the canonical JSON text of `value`. */
export function canonicalizeToBytes(value: unknown, options?: SerializeOptions): Uint8Array {
  return encoder.encode(canonicalize(value, options));
}
