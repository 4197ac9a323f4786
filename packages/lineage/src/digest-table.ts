// Interns 32-byte digests (event hashes, dataset versions) as dense integer ids: the
// digests live in one Uint8Array (32 bytes per id) and an open-addressing table of
// Int32 slots maps them to ids. No string or object per entry, so a million hashes cost
// ~40 bytes each instead of ~150 for a Map of hex strings.

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;
const HEX_OUT = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Parses 64 lower-case hex digits into `out` (32 bytes); false when `hex` is not that. */
export function parseHex32(hex: string, out: Uint8Array, offset = 0): boolean {
  if (hex.length !== 64) return false;
  for (let i = 0; i < 32; i++) {
    const hi = HEX[hex.charCodeAt(2 * i)] ?? -1;
    const lo = HEX[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) return false;
    out[offset + i] = (hi << 4) | lo;
  }
  return true;
}

export class DigestTable {
  #digests = new Uint8Array(32 * 1024);
  #slots = new Int32Array(2048); // id + 1; 0 = empty
  #mask = 2047;
  #size = 0;
  readonly #scratch = new Uint8Array(32);

  get size(): number {
    return this.#size;
  }

  /** Bytes held by the typed arrays. */
  get bytes(): number {
    return this.#digests.byteLength + this.#slots.byteLength;
  }

  /** The id of a hex digest, or -1 (also for text that is not 64 lower-case hex digits). */
  lookup(hex: string): number {
    if (!parseHex32(hex, this.#scratch)) return -1;
    return this.#find(this.#scratch);
  }

  /** The id of a hex digest, interning it if new; -1 when `hex` is malformed. */
  intern(hex: string): number {
    const d = this.#scratch;
    if (!parseHex32(hex, d)) return -1;
    const found = this.#find(d);
    if (found >= 0) return found;
    if ((this.#size + 1) * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
    const id = this.#size++;
    if (id * 32 + 32 > this.#digests.length) {
      const next = new Uint8Array(this.#digests.length * 2);
      next.set(this.#digests);
      this.#digests = next;
    }
    this.#digests.set(d, id * 32);
    this.#place(id);
    return id;
  }

  /** Lower-case hex of an id's digest. */
  hex(id: number): string {
    const d = this.#digests;
    let s = '';
    for (let i = id * 32, end = i + 32; i < end; i++) s += HEX_OUT[d[i]!]!;
    return s;
  }

  #home(d: Uint8Array, offset: number): number {
    // The digests are uniformly random: their first four bytes are a fine hash.
    return (
      ((d[offset]! << 24) | (d[offset + 1]! << 16) | (d[offset + 2]! << 8) | d[offset + 3]!) & this.#mask
    );
  }

  #find(d: Uint8Array): number {
    const digests = this.#digests;
    for (let slot = this.#home(d, 0); ; slot = (slot + 1) & this.#mask) {
      const v = this.#slots[slot]!;
      if (v === 0) return -1;
      const base = (v - 1) * 32;
      let same = true;
      for (let i = 0; i < 32; i++) {
        if (digests[base + i] !== d[i]) {
          same = false;
          break;
        }
      }
      if (same) return v - 1;
    }
  }

  #place(id: number): void {
    let slot = this.#home(this.#digests, id * 32);
    while (this.#slots[slot] !== 0) slot = (slot + 1) & this.#mask;
    this.#slots[slot] = id + 1;
  }

  #rehash(capacity: number): void {
    this.#slots = new Int32Array(capacity);
    this.#mask = capacity - 1;
    for (let id = 0; id < this.#size; id++) this.#place(id);
  }
}
