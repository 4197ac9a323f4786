// The set of event hashes already in the log, for the lineage check (every input names an
// earlier event), in about 8-16 bytes per event instead of a string set's ~100.
// Each hash is stored as a 64-bit fingerprint keyed by a secret drawn per run (the first
// 8 bytes of SHA-256(secret || hash)): a log writer who does not know the secret cannot
// craft an input that collides with an earlier event's fingerprint, and an accidental
// collision has probability about n^2 / 2^64.
import { createHash, randomBytes } from 'node:crypto';

export class EventHashSet {
  readonly #secret = randomBytes(32);
  #hi = new Uint32Array(1024);
  #lo = new Uint32Array(1024);
  #mask = 1023;
  #count = 0;

  get size(): number {
    return this.#count;
  }

  #fingerprint(hash: string): [number, number] {
    const d = createHash('sha256').update(this.#secret).update(hash, 'latin1').digest();
    const hi = d.readUInt32LE(0);
    // (0, 0) marks an empty slot.
    const lo = d.readUInt32LE(4) || 1;
    return [hi, lo];
  }

  add(hash: string): void {
    const [hi, lo] = this.#fingerprint(hash);
    if (this.#insert(hi, lo)) this.#count++;
    if (this.#count * 2 > this.#mask) this.#grow();
  }

  has(hash: string): boolean {
    const [hi, lo] = this.#fingerprint(hash);
    for (let i = (lo ^ hi) & this.#mask; ; i = (i + 1) & this.#mask) {
      if (this.#lo[i] === 0) return false;
      if (this.#lo[i] === lo && this.#hi[i] === hi) return true;
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
