// A minimal in-memory transparency log that signs checkpoints and serves consistency proofs:
// what a witness needs to be driven, in tests, demos and benchmarks. Not a ledger.
import { formatVerifierKey, generateSigningKey, type SigningKey } from '@civic-ledger/crypto';
import {
  CompactRange,
  MemoryNodeStore,
  consistencyProofSync,
  emptyRoot,
  hashLeaf,
  newNodeBatch,
  rootAtSync,
} from '@civic-ledger/merkle';
import { ed25519Signer, signCheckpoint } from '@civic-ledger/signed-note';
import { formatAddCheckpointRequest } from './request.ts';

export class MemoryLog {
  readonly origin: string;
  readonly key: SigningKey;
  readonly #store = new MemoryNodeStore();
  #range = CompactRange.empty();

  /** A log named `origin`, signing with `key` (default: a fresh key named after the origin). */
  constructor(origin: string, key: SigningKey = generateSigningKey(origin)) {
    this.origin = origin;
    this.key = key;
  }

  /** The log's note verifier key (type 0x01). */
  get verifierKey(): string {
    return formatVerifierKey(this.key);
  }

  get size(): number {
    return this.#range.size;
  }

  /** Appends leaves (text is UTF-8 encoded). */
  append(...leaves: readonly (string | Uint8Array)[]): this {
    const batch = newNodeBatch();
    for (const leaf of leaves) {
      this.#range.append(hashLeaf(typeof leaf === 'string' ? Buffer.from(leaf, 'utf8') : leaf), batch);
    }
    this.#store.putNodes(batch);
    return this;
  }

  /** Appends `n` leaves named `<prefix>-<index>`. */
  grow(n: number, prefix = 'leaf'): this {
    const start = this.size;
    return this.append(...Array.from({ length: n }, (_, i) => `${prefix}-${start + i}`));
  }

  /** The root hash of the tree of `size` leaves (default: the current size). */
  root(size = this.size): Uint8Array {
    return size === 0 ? emptyRoot() : rootAtSync(this.#store, size);
  }

  /** The checkpoint note of `size` (default: current), signed with the log key. */
  checkpoint(size = this.size, extensions: readonly string[] = []): string {
    return signCheckpoint(
      { origin: this.origin, size, rootHash: this.root(size), extensions },
      ed25519Signer(this.key),
    );
  }

  /** RFC 6962 consistency proof from `from` to `to` (default: current); empty from 0 or for equal sizes. */
  consistencyProof(from: number, to = this.size): Uint8Array[] {
    return from === 0 || from === to ? [] : consistencyProofSync(this.#store, from, to);
  }

  /** The add-checkpoint request body from `oldSize` to `size` (default: current). */
  addCheckpointRequest(oldSize: number, size = this.size): string {
    return formatAddCheckpointRequest({
      oldSize,
      proof: this.consistencyProof(oldSize, size),
      checkpoint: this.checkpoint(size),
    });
  }
}
