// The right border of the tree the verifier rebuilds (an RFC 9162 compact range, as
// CompactRange in @civic-ledger/merkle), with hashes held as 32-character latin1 strings.
// node:crypto's one-shot hash returns a string several times faster than a Buffer for
// inputs this small (no Buffer to allocate), and one interior node is hashed per leaf on
// average, on the thread that replays the log in order. tree.test.ts proves it equal to
// CompactRange.
import { hash } from 'node:crypto';

const scratch = Buffer.alloc(65);

/** RFC 9162 interior node hash SHA-256(0x01 || left || right), latin1 in and out. */
export function nodeHash(left: string, right: string): string {
  scratch[0] = 0x01;
  scratch.write(left, 1, 32, 'latin1');
  scratch.write(right, 33, 32, 'latin1');
  return hash('sha256', scratch, 'binary');
}

/** RFC 9162 leaf hash SHA-256(0x00 || leaf) of `prefixed` = 0x00 || leaf, latin1. */
export function leafHashOfPrefixed(prefixed: Uint8Array): string {
  return hash('sha256', prefixed, 'binary');
}

const EMPTY_ROOT = hash('sha256', new Uint8Array(0), 'binary');

export const latin1ToHex = (h: string): string => Buffer.from(h, 'latin1').toString('hex');

export class TreeBorder {
  #size = 0;
  /** Perfect-subtree roots, largest first. */
  readonly #hashes: string[] = [];

  get size(): number {
    return this.#size;
  }

  /** The border hashes (latin1), largest subtree first. Treat as read-only. */
  get hashes(): readonly string[] {
    return this.#hashes;
  }

  /** Appends a leaf by its leaf hash (latin1). */
  appendLeaf(leafHash: string): void {
    let h = leafHash;
    let index = this.#size;
    while (index % 2 === 1) {
      h = nodeHash(this.#hashes.pop()!, h);
      index = (index - 1) / 2;
    }
    this.#hashes.push(h);
    this.#size++;
  }

  /** Root of the tree of `size` leaves (the empty tree's root for 0). */
  root(): string {
    const hs = this.#hashes;
    let i = hs.length - 1;
    if (i < 0) return EMPTY_ROOT;
    let h = hs[i]!;
    while (--i >= 0) h = nodeHash(hs[i]!, h);
    return h;
  }
}
