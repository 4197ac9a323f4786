// The upper levels of the tree in memory, for SqliteStore's proofs. A proof of a tree of
// n leaves needs about log2(n) nodes; read from the leaf rows that complete them, each
// node above the lowest few levels is on a page of its own, far from the others (at 1M
// leaves: ~15 random pages per proof, and a miss in SQLite's page cache for most). Nodes
// of level >= UPPER_LEVEL are also kept in a small `upper` table and held here, so a proof
// reads from the leaf rows only the levels below it: rows within 2^UPPER_LEVEL = 256
// consecutive leaves of one another.
//
// A node's hash never changes once the log holds its last leaf, so what is held here
// never goes stale; the store only ever adds committed nodes and forgets them all when
// the derived rows are dropped (rebuild). A node not held here is read from its leaf row
// as before.

/** Lowest level kept in memory: 2^-(UPPER_LEVEL-1) nodes per leaf (~1 byte per leaf at 6). */
export const UPPER_LEVEL = 8;

const HASH_BYTES = 32;

/** Trailing one bits of a ledger index: how many interior nodes its leaf completes. */
export function trailingOnes(index: number): number {
  let t = 0;
  for (let i = index; i % 2 === 1; i = (i - 1) / 2) t++;
  return t;
}

export class UpperNodes {
  /** The lowest level held. */
  readonly level: number;
  /** Per level from `level` up: the hashes by node index, 32 bytes each (zeros: not held). */
  readonly #levels: Uint8Array[] = [];
  /** Every `upper` row of a leaf index below this is held (as far as it was written). */
  loadedTo = 0;

  constructor(level: number) {
    this.level = level;
  }

  /**
   * Holds the nodes a leaf completes from `level` up, as a row stores them: `nodes` is
   * levels level..t of leaf `owner`, 32 bytes each.
   */
  putRow(owner: number, nodes: Uint8Array): void {
    for (let o = 0, level = this.level; o + HASH_BYTES <= nodes.length; o += HASH_BYTES, level++) {
      const at = ((owner + 1) / 2 ** level - 1) * HASH_BYTES;
      if (!Number.isSafeInteger(at) || at < 0) return; // not a leaf that completes this level
      const i = level - this.level;
      let l = this.#levels[i];
      if (l === undefined || l.length < at + HASH_BYTES) {
        const grown = new Uint8Array(Math.max(at + HASH_BYTES, 2 * (l?.length ?? 0), 64 * HASH_BYTES));
        if (l !== undefined) grown.set(l);
        this.#levels[i] = l = grown;
      }
      l.set(nodes.subarray(o, o + HASH_BYTES), at);
    }
  }

  /** The hash of node (level, index) if held (a copy), else undefined. */
  get(level: number, index: number): Uint8Array | undefined {
    const l = this.#levels[level - this.level];
    const at = index * HASH_BYTES;
    if (l === undefined || level < this.level || at + HASH_BYTES > l.length) return undefined;
    for (let i = at; i < at + HASH_BYTES; i++) if (l[i] !== 0) return l.slice(at, at + HASH_BYTES);
    return undefined; // zeros: not written
  }

  /** Bytes of the typed arrays. */
  get bytes(): number {
    return this.#levels.reduce((n, l) => n + l.length, 0);
  }
}
