// A small seeded PRNG of our own (xoshiro128**, 32-bit arithmetic only), so the city is the
// same on every platform and Node version: Math.random and engine internals never enter.
//
// Every concern draws from its own stream, derived by SHA-256 from the seed and a label
// (`derive(seed, 'structure', day)`), so drawing more or fewer numbers for one concern never
// shifts another's: a new kind of detail, a hook, or a violation injector leaves the rest of
// the city as it was.
import { createHash } from 'node:crypto';

/** SHA-256 of `text` (UTF-8). */
function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Lower-case hex SHA-256 of a label under the seed: fixed digests (agreements, assessments). */
export function digestOf(seed: string, ...labels: readonly (string | number)[]): string {
  return `sha256:${sha256(['civic-ledger/demo-city/v1/digest', seed, ...labels].join('\n')).toString('hex')}`;
}

/** 32 bytes derived from the seed and labels (key seeds). */
export function bytesOf(seed: string, ...labels: readonly (string | number)[]): Uint8Array {
  return new Uint8Array(sha256(['civic-ledger/demo-city/v1/bytes', seed, ...labels].join('\n')));
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.#a = a >>> 0;
    this.#b = b >>> 0;
    this.#c = c >>> 0;
    this.#d = d >>> 0;
    // xoshiro's one forbidden state; SHA-256 output is never all zeros in practice.
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 0x9e3779b9;
  }

  /** An independent stream for `labels` under `seed`. */
  static derive(seed: string, ...labels: readonly (string | number)[]): Prng {
    const h = sha256(['civic-ledger/demo-city/v1/prng', seed, ...labels].join('\n'));
    return new Prng(h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12));
  }

  /** Next 32-bit unsigned integer. */
  u32(): number {
    const b = this.#b;
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.#c ^= this.#a;
    this.#d ^= b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return r;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n) (n >= 1). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** `n` random bytes as lower-case hex (2n characters). */
  hex(n: number): string {
    let s = '';
    let word = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 3) === 0) word = this.u32();
      s += HEX[word & 0xff]!;
      word >>>= 8;
    }
    return s;
  }

  /** A content digest `sha256:<64 hex>` (a dataset version). */
  digest(): string {
    return `sha256:${this.hex(32)}`;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
