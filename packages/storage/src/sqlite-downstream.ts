// Downstream lineage of SqliteStore: which leaves name an event hash among their inputs.
//
// Stored append-only, like the lookups: a `downstream` row holds the links of consecutive
// leaves (a batch, or a few small ones merged), 12 bytes each in ledger index order: the
// 48-bit key of the input's event hash (a prefix; readers confirm the full hash in the
// leaf) and the child's ledger index (uint48), big-endian. An append writes at the table's
// tail only. (A B-tree keyed by input hash took each link to a random page: at ~1M leaves
// the pre-verified append ran ~30 % slower than at 100k, and slower still as it grew.)
//
// Read through an in-memory multimap loaded on the first downstream lookup: the input
// keys in a HashIndex whose entry numbers are link numbers, and the child of each link.

import { HashIndex, keyParts } from './hash-index.ts';
import type { LineageLink } from './types.ts';

/** Bytes per link: 6 of input key, 6 of child ledger index. */
export const LINK_BYTES = 12;

/** Links packed as a `downstream` row stores them. */
export function packLinks(links: readonly LineageLink[]): Buffer {
  const out = Buffer.alloc(links.length * LINK_BYTES);
  for (let i = 0; i < links.length; i++) {
    const o = i * LINK_BYTES;
    out.write(links[i]!.input.slice(0, 12), o, 6, 'hex');
    out.writeUIntBE(links[i]!.index, o + 6, 6);
  }
  return out;
}

/** The uint48 at `o`, as (high 16 bits, low 32 bits). */
function uint48(bytes: Uint8Array, o: number): [hi: number, lo: number] {
  return [
    (bytes[o]! << 8) | bytes[o + 1]!,
    ((bytes[o + 2]! << 24) | (bytes[o + 3]! << 16) | (bytes[o + 4]! << 8) | bytes[o + 5]!) >>> 0,
  ];
}

/** The child ledger index of link `i` of a packed row. */
export function linkIndex(links: Uint8Array, i: number): number {
  const [hi, lo] = uint48(links, i * LINK_BYTES + 6);
  return hi * 2 ** 32 + lo;
}

/** Every link of leaves below `loadedTo`, and only those. */
export class DownstreamIndex {
  readonly #keys: HashIndex;
  #child = new Float64Array(1024);
  /** Links of every leaf below this index are held. */
  loadedTo = 0;

  constructor(options: { keyBits?: number } = {}) {
    this.#keys = new HashIndex(options.keyBits === undefined ? {} : { keyBits: options.keyBits });
  }

  #push(hi: number, lo: number, child: number): void {
    const n = this.#keys.size;
    if (n === this.#child.length) {
      const grown = new Float64Array(2 * n);
      grown.set(this.#child);
      this.#child = grown;
    }
    this.#keys.push(hi, lo);
    this.#child[n] = child;
  }

  /** Holds the links of the packed rows (in ledger index order) below `to`. */
  load(rows: Iterable<Uint8Array>, to: number): void {
    for (const links of rows) {
      for (let i = 0; i < links.length / LINK_BYTES; i++) {
        const child = linkIndex(links, i);
        if (child < this.loadedTo || child >= to) continue;
        const [hi, lo] = uint48(links, i * LINK_BYTES);
        this.#push(hi, lo, child);
      }
    }
    this.#keys.flush();
    this.loadedTo = Math.max(this.loadedTo, to);
  }

  /** Holds the links of leaves from loadedTo (in ledger index order) up to `to`. */
  add(links: readonly LineageLink[], to: number): void {
    for (const l of links) {
      if (l.index < this.loadedTo || l.index >= to) continue;
      const [hi, lo] = keyParts(l.input);
      this.#push(hi, lo, l.index);
    }
    this.#keys.flush();
    this.loadedTo = Math.max(this.loadedTo, to);
  }

  /** Adds to `out` the children whose input key equals that of `eventHash`. */
  find(eventHash: string, out: Set<number>): void {
    const [hi, lo] = keyParts(eventHash);
    const found: number[] = [];
    this.#keys.find(hi, lo, found);
    for (const n of found) out.add(this.#child[n]!);
  }
}
