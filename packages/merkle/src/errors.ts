/** Stable codes for every refusal; callers and tests match on these, never on messages. */
export type MerkleErrorCode =
  /** A size, index or level that is not a non-negative safe integer, or beyond MAX_TREE_SIZE. */
  | 'INVALID_ARGUMENT'
  /** Inclusion proof for a leaf index >= tree size (this includes every index in the empty tree). */
  | 'INDEX_OUT_OF_RANGE'
  /** Consistency between size1 > size2. */
  | 'SIZE_ORDER'
  /** Consistency proof from the empty tree to a larger one: refused, there is nothing to prove. */
  | 'EMPTY_TREE_CONSISTENCY'
  /** size1 == size2 but the consistency proof is not empty. */
  | 'NONEMPTY_PROOF_FOR_EQUAL_SIZES'
  /** The proof does not have exactly the number of hashes the (index, size) or (size1, size2) need. */
  | 'WRONG_PROOF_SIZE'
  /** A leaf hash, proof element, seed root or stored node hash that is not 32 bytes. */
  | 'INVALID_HASH_SIZE'
  /** The root computed from the proof differs from the expected root. */
  | 'ROOT_MISMATCH'
  /** A compact range (right border) whose hash count does not match its size. */
  | 'INVALID_RANGE'
  /** Appending past MAX_TREE_SIZE leaves. */
  | 'TREE_FULL'
  /** The store has no hash for a node the operation needs. */
  | 'MISSING_NODE'
  /** A store write would replace a node with a different hash (nodes are immutable). */
  | 'NODE_CONFLICT'
  /** The store threw, or answered a batched read with the wrong number of entries. */
  | 'STORE_FAILURE';

export class MerkleError extends Error {
  override readonly name = 'MerkleError';
  readonly code: MerkleErrorCode;

  constructor(code: MerkleErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a MerkleError (with the given code, if one is given). */
export function isMerkleError(err: unknown, code?: MerkleErrorCode): err is MerkleError {
  return err instanceof MerkleError && (code === undefined || err.code === code);
}
