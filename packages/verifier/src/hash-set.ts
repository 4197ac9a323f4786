// The set of event hashes already in the log, for the lineage check (every input names an
// earlier event), in 16-32 bytes per event instead of a string set's ~100.
//
// Each hash is stored as a 64-bit fingerprint keyed by a secret drawn per run: the first
// 8 bytes of AES-128-CBC-MAC(secret, the hash's 32 bytes). CBC-MAC over messages of one
// fixed length (here two blocks) is a pseudorandom function, so a log writer who does not
// know the secret cannot craft an input that collides with an earlier event's fingerprint,
// and an accidental collision has probability about n^2 / 2^64. (A keyed SHA-256 would
// serve as well; AES lets a whole chunk of hashes be fingerprinted in two native calls,
// on worker threads, instead of one call per hash.)
import { createCipheriv, randomBytes, type Cipheriv } from 'node:crypto';

const HASH = /^[0-9a-f]{64}$/;

/** The keyed fingerprint function, shareable with worker threads through its key. */
export class Fingerprinter {
  /** The 16-byte secret (send it to a worker to fingerprint the same way there). */
  readonly key: Uint8Array;
  readonly #cipher: Cipheriv;
  #scratch = Buffer.alloc(32);

  constructor(key: Uint8Array = randomBytes(16)) {
    if (key.length !== 16) throw new TypeError('fingerprint key: 16 bytes');
    this.key = Uint8Array.from(key);
    // ECB on single blocks is the bare block cipher; CBC-MAC is built from it below.
    this.#cipher = createCipheriv('aes-128-ecb', this.key, null).setAutoPadding(false);
  }

  /**
   * Fingerprints of `n` 32-byte values laid end to end in `raw`, written as (hi, lo) pairs
   * to `out` from `at` (lo is never 0, which marks an empty slot).
   */
  batch(raw: Uint8Array, n: number, out: Uint32Array, at = 0): void {
    if (n === 0) return;
    if (this.#scratch.length < n * 32) this.#scratch = Buffer.alloc(n * 32);
    const first = this.#scratch.subarray(0, n * 16);
    for (let i = 0; i < n; i++) first.set(raw.subarray(i * 32, i * 32 + 16), i * 16);
    const c1 = this.#cipher.update(first);
    // Second block: E(c1 xor m2).
    for (let i = 0; i < n; i++) {
      const o = i * 16;
      const m = i * 32 + 16;
      for (let j = 0; j < 16; j++) c1[o + j]! ^= raw[m + j]!;
    }
    const c2 = this.#cipher.update(c1);
    for (let i = 0; i < n; i++) {
      const hi = c2.readUInt32LE(i * 16);
      const lo = c2.readUInt32LE(i * 16 + 4);
      out[at + 2 * i] = hi;
      out[at + 2 * i + 1] = lo || 1;
    }
  }

  /** The fingerprint of one hex event hash (64 lower-case hex digits). */
  ofHex(hash: string): [number, number] {
    const raw = Buffer.from(hash, 'hex');
    const out = new Uint32Array(2);
    this.batch(raw, 1, out);
    return [out[0]!, out[1]!];
  }
}

export class EventHashSet {
  readonly fingerprinter: Fingerprinter;
  #hi = new Uint32Array(1024);
  #lo = new Uint32Array(1024);
  #mask = 1023;
  #count = 0;

  /** `key`: the fingerprint secret (default: drawn now). */
  constructor(options: { key?: Uint8Array } = {}) {
    this.fingerprinter = new Fingerprinter(options.key);
  }

  get size(): number {
    return this.#count;
  }

  /** Adds an event hash (64 lower-case hex digits; anything else is a TypeError). */
  add(hash: string): void {
    if (!HASH.test(hash)) throw new TypeError('an event hash is 64 lower-case hex digits');
    const [hi, lo] = this.fingerprinter.ofHex(hash);
    this.addFingerprint(hi, lo);
  }

  /** Whether `hash` was added (false for anything that is not an event hash). */
  has(hash: string): boolean {
    if (!HASH.test(hash)) return false;
    const [hi, lo] = this.fingerprinter.ofHex(hash);
    return this.hasFingerprint(hi, lo);
  }

  /** Adds a hash by its fingerprint (from this set's `fingerprinter`, or one with its key). */
  addFingerprint(hi: number, lo: number): void {
    if (this.#insert(hi, lo)) this.#count++;
    if (this.#count * 2 > this.#mask) this.#grow();
  }

  hasFingerprint(hi: number, lo: number): boolean {
    const los = this.#lo;
    const mask = this.#mask;
    for (let i = (lo ^ hi) & mask; ; i = (i + 1) & mask) {
      const l = los[i]!;
      if (l === 0) return false;
      if (l === lo && this.#hi[i] === hi) return true;
    }
  }

  #insert(hi: number, lo: number): boolean {
    for (let i = (lo ^ hi) & this.#mask; ; i = (i + 1) & this.#mask) {
      if (this.#lo[i] === 0) {
        this.#hi[i] = hi;
        this.#lo[i] = lo;
        return true;
      }
      if (this.#lo[i] === lo && this.#hi[i] === hi) return false;
    }
  }

  #grow(): void {
    const hi = this.#hi;
    const lo = this.#lo;
    const capacity = (this.#mask + 1) * 2;
    this.#hi = new Uint32Array(capacity);
    this.#lo = new Uint32Array(capacity);
    this.#mask = capacity - 1;
    for (let i = 0; i < lo.length; i++) if (lo[i] !== 0) this.#insert(hi[i]!, lo[i]!);
  }
}
