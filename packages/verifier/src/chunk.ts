// The position-independent half of verifying a chunk of leaves: decode each leaf (fast
// path), hash it for the tree, hash its event, fingerprint the event hash and its inputs
// for the lineage set, and verify its signature with the key its name had when last seen.
// None of this depends on the registry, the chains or the tree, so worker threads do it for
// several chunks at once while the calling thread replays the order-dependent checks
// (verify.ts). The same code runs on the calling thread when there are no workers.
//
// Nothing here is trusted as a verdict on its own: a leaf the fast decoder does not accept
// is marked for the reference path, and a signature result is used only if it was computed
// with the very public key the replayed registry has in force for that event.
// Worker threads load this module: it keeps to node:crypto (key objects from raw keys, the
// signed message's context string passed in) rather than loading @civic-ledger/crypto.
import { createPublicKey, hash, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { chainKey } from '@civic-ledger/chain';
import { isMovement } from '@civic-ledger/schemas';
import { fastDecodeLeaf } from './fast-leaf.ts';
import { Fingerprinter } from './hash-set.ts';

/** Per-leaf status: decoded by the fast path and ordinary, or left to the reference path. */
export const STATUS_FAST = 0;
export const STATUS_REFERENCE = 1;

/** What the replay needs to know of an event's type. */
export const KIND_OTHER = 0;
export const KIND_MOVEMENT = 1;
export const KIND_ATTEST = 2;
export const KIND_FINDING = 3;

/** Signature state: not checked here, verifies with sigKeys[k], does not verify with it. */
export const SIG_NONE = 0;
export const SIG_VALID = 1;
export const SIG_INVALID = 2;

/** A key a decoder may use to check signatures: the name's current public key, as a hint. */
export interface KeyHint {
  name: string;
  publicKey: Uint8Array;
}

export interface ChunkInput {
  /** Ledger position of the first leaf. */
  from: number;
  count: number;
  /**
   * The leaves: leaf k is bytes[offsets[k] + 1, offsets[k + 1]); the byte at offsets[k] is
   * 0x00, the RFC 9162 leaf-hash prefix, so the leaf hash needs no copy.
   */
  bytes: Uint8Array;
  offsets: Uint32Array;
  /** Key hints added since the last chunk this decoder saw. */
  keys: KeyHint[];
}

export interface ChunkOutput {
  count: number;
  status: Uint8Array;
  kind: Uint8Array;
  sig: Uint8Array;
  /** Per leaf: the leaf's index member and the event's seq. */
  nums: Float64Array;
  /** Per leaf: RFC 9162 leaf hash (32 bytes), for every leaf. */
  leafHashes: Uint8Array;
  /** Per leaf: the public key the signature was checked with (32 bytes). */
  sigKeys: Uint8Array;
  /** Per leaf: fingerprint (hi, lo) of the event hash. */
  fps: Uint32Array;
  /** Fingerprints of the inputs, leaf after leaf; leaf k's are pairs inputStart[k]..inputStart[k + 1]. */
  inputFps: Uint32Array;
  inputStart: Uint32Array;
  /** Per leaf five strings: event hash, prev, chain key, emitter, key name ('' when not fast). */
  strings: string[];
  /**
   * With `decode(input, true)`: the signature checks left to the caller, as 128-byte
   * records (hint key, digest, signature) and the leaf each belongs to; `sig` of those
   * leaves stays SIG_NONE until the caller sets it (`applyChecks`).
   */
  deferred?: { records: Uint8Array; leaves: Uint32Array };
}

/** Sets the signature state of deferred checks from their results (1 valid, 0 not). */
export function applyChecks(out: ChunkOutput, results: Uint8Array): ChunkOutput {
  if (out.deferred !== undefined) setChecked(out.sig, out.deferred.leaves, results);
  return out;
}

function setChecked(sig: Uint8Array, leaves: Uint32Array, results: Uint8Array): void {
  for (let j = 0; j < leaves.length; j++) sig[leaves[j]!] = results[j] === 1 ? SIG_VALID : SIG_INVALID;
}

export const STRINGS_PER_LEAF = 7;

interface HintKey {
  raw: Uint8Array;
  keyObject: KeyObject;
}

// DER prefix that wraps a raw 32-byte Ed25519 public key as SPKI (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A node:crypto key object for a raw Ed25519 public key (throws for a malformed one). */
export function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new TypeError('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/**
 * The raw key of C2SP verifier-key text (name+keyid+base64(0x01 || key)), read for form
 * only: it is a hint, checked against the registry's parsed key before any use.
 */
function rawKeyOfText(text: string): Uint8Array | undefined {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) return undefined;
  const key = Buffer.from(text.slice(second + 1), 'base64');
  return key.length === 33 && key[0] === 0x01 ? key.subarray(1) : undefined;
}

/** Checks signatures laid out as records of 128 bytes (key, digest, signature): 1 valid, 0 not. */
export function verifyRecords(context: Uint8Array, data: Uint8Array, n: number): Uint8Array {
  const results = new Uint8Array(n);
  const message = Buffer.alloc(context.length + 32);
  message.set(context, 0);
  const keys = new Map<string, KeyObject>();
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < n; i++) {
    const o = i * 128;
    const raw = buf.subarray(o, o + 32);
    const id = raw.toString('hex');
    try {
      let key = keys.get(id);
      if (key === undefined) keys.set(id, (key = publicKeyObject(raw)));
      buf.copy(message, context.length, o + 32, o + 64);
      results[i] = nodeVerify(null, message, key, buf.subarray(o + 64, o + 128)) ? 1 : 0;
    } catch {
      results[i] = 0;
    }
  }
  return results;
}

export class ChunkDecoder {
  readonly #fingerprinter: Fingerprinter;
  readonly #checkSignatures: boolean;
  readonly #keys = new Map<string, HintKey>();
  readonly #message: Buffer;
  readonly #contextLength: number;

  /** `context`: the event signature's context string (bytes), as @civic-ledger/crypto signs. */
  constructor(options: { fingerprintKey: Uint8Array; checkSignatures: boolean; context: Uint8Array }) {
    this.#fingerprinter = new Fingerprinter(options.fingerprintKey);
    this.#checkSignatures = options.checkSignatures;
    this.#contextLength = options.context.length;
    this.#message = Buffer.alloc(this.#contextLength + 32);
    this.#message.set(options.context, 0);
  }

  #hint(name: string, raw: Uint8Array): void {
    const known = this.#keys.get(name);
    if (known && Buffer.compare(known.raw, raw) === 0) return;
    try {
      this.#keys.set(name, { raw: Uint8Array.from(raw), keyObject: publicKeyObject(raw) });
    } catch {
      this.#keys.delete(name);
    }
  }

  /** Takes key hints (as a chunk's `keys` do). */
  learn(keys: readonly KeyHint[]): void {
    for (const k of keys) this.#hint(k.name, k.publicKey);
  }

  /** `defer`: collect the signature checks (ChunkOutput.deferred) instead of making them. */
  decode(input: ChunkInput, defer = false): ChunkOutput {
    this.learn(input.keys);
    const n = input.count;
    const { bytes, offsets } = input;
    const status = new Uint8Array(n);
    const kind = new Uint8Array(n);
    const sig = new Uint8Array(n);
    const nums = new Float64Array(2 * n);
    const leafHashes = Buffer.alloc(32 * n);
    const sigKeys = new Uint8Array(32 * n);
    const inputStart = new Uint32Array(n + 1);
    const strings: string[] = new Array<string>(STRINGS_PER_LEAF * n).fill('');
    // Raw 32-byte values to fingerprint: each fast leaf's event hash, then all inputs.
    const own = Buffer.alloc(32 * n);
    const inputs: string[] = [];
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Signatures are checked after the chunk is decoded, in one run: interleaved with the
    // decoding, each verification found Ed25519's tables evicted from the caches by it
    // (measured with one worker: ~12 % more CPU per event). The key is the one in force when
    // the leaf was decoded.
    const toVerify: number[] = [];
    const toVerifyKey: KeyObject[] = [];

    for (let k = 0; k < n; k++) {
      const start = offsets[k]!;
      const end = offsets[k + 1]!;
      // String output: node:crypto returns a short string much faster than a Buffer.
      leafHashes.write(hash('sha256', buf.subarray(start, end), 'binary'), 32 * k, 32, 'latin1');
      inputStart[k] = inputs.length;
      const leaf = fastDecodeLeaf(bytes, start + 1, end);
      const e = leaf?.event;
      // Leaf 0, registrations and keys change the registry: the reference path replays them.
      if (leaf === undefined || e === undefined || input.from + k === 0 || e.type === 'register') {
        status[k] = STATUS_REFERENCE;
      }
      if (leaf === undefined || e === undefined) continue;
      if (e.type === 'key') {
        status[k] = STATUS_REFERENCE;
        // A hint for later events of this chunk: the key this event adds.
        const raw =
          e.action !== 'revoke' && e.publicKey !== undefined ? rawKeyOfText(e.publicKey) : undefined;
        if (raw !== undefined) this.#hint(e.subjectKey, raw);
      }
      const digest = hash('sha256', buf.subarray(leaf.eventStart, leaf.eventEnd), 'binary');
      own.write(digest, 32 * k, 32, 'latin1');
      nums[2 * k] = leaf.index;
      nums[2 * k + 1] = e.seq;
      kind[k] = isMovement(e)
        ? KIND_MOVEMENT
        : e.type === 'attest'
          ? KIND_ATTEST
          : e.type === 'finding'
            ? KIND_FINDING
            : KIND_OTHER;
      const o = STRINGS_PER_LEAF * k;
      strings[o] = own.toString('hex', 32 * k, 32 * k + 32);
      strings[o + 1] = e.prev;
      strings[o + 2] = chainKey(e.emitter, e.stream);
      strings[o + 3] = e.emitter;
      strings[o + 4] = e.key;
      if (isMovement(e)) {
        // What must be registered (checked in order on the calling thread).
        strings[o + 5] = e.dataset.id;
        if (e.type === 'collect') strings[o + 6] = e.source;
        for (const h of e.inputs) inputs.push(h);
      }
      if (this.#checkSignatures) {
        const key = this.#keys.get(e.key);
        if (key !== undefined) {
          toVerify.push(k, leaf.signatureStart);
          toVerifyKey.push(key.keyObject);
          sigKeys.set(key.raw, 32 * k);
        }
      }
    }
    inputStart[n] = inputs.length;
    // The checks as records (key, digest, signature): handed to the caller, or made here.
    const checks = toVerifyKey.length;
    // A Uint8Array, not a Buffer: its slice() must copy (parts are transferred to workers).
    const records = new Uint8Array(128 * checks);
    const checked = new Uint32Array(checks);
    for (let j = 0; j < checks; j++) {
      const k = toVerify[2 * j]!;
      const at = toVerify[2 * j + 1]!;
      const signature = Buffer.from(buf.toString('latin1', at, at + 88), 'base64');
      checked[j] = k;
      // A malformed signature cannot verify: zeros fail.
      if (signature.length !== 64) continue;
      records.set(sigKeys.subarray(32 * k, 32 * k + 32), 128 * j);
      own.copy(records, 128 * j + 32, 32 * k, 32 * k + 32);
      records.set(signature, 128 * j + 64);
    }
    if (!defer) {
      const results = new Uint8Array(checks);
      for (let j = 0; j < checks; j++) {
        this.#message.set(records.subarray(128 * j + 32, 128 * j + 64), this.#contextLength);
        results[j] = nodeVerify(
          null,
          this.#message,
          toVerifyKey[j]!,
          records.subarray(128 * j + 64, 128 * j + 128),
        )
          ? 1
          : 0;
      }
      setChecked(sig, checked, results);
    }

    const fps = new Uint32Array(2 * n);
    this.#fingerprinter.batch(own, n, fps);
    const inputFps = new Uint32Array(2 * inputs.length);
    if (inputs.length > 0) {
      const raw = Buffer.alloc(32 * inputs.length);
      for (let i = 0; i < inputs.length; i++) raw.write(inputs[i]!, 32 * i, 32, 'hex');
      this.#fingerprinter.batch(raw, inputs.length, inputFps);
    }
    const out: ChunkOutput = {
      count: n,
      status,
      kind,
      sig,
      nums,
      leafHashes,
      sigKeys,
      fps,
      inputFps,
      inputStart,
      strings,
    };
    if (defer) out.deferred = { records, leaves: checked };
    return out;
  }
}

/**
 * Decodes rows a worker read itself (`[idx, leaf, ehash, chain, seq]`, positions from
 * `from` on) and makes the checks the calling thread makes on a row's store columns: a leaf
 * whose row index is not its position, or whose store event hash, chain or seq is not the
 * event's, is left to the reference path (which reports it from its own read of the rows).
 * Throws if a leaf is not bytes: the calling thread then reads and decodes the chunk itself.
 * Key hints are given to the decoder beforehand (`learn`), so a failed read loses none.
 */
export function decodeRows(
  decoder: ChunkDecoder,
  from: number,
  rows: readonly (readonly unknown[])[],
): ChunkOutput {
  const leaves = rows.map((r) => {
    if (!(r[1] instanceof Uint8Array)) throw new TypeError('a leaf row without leaf bytes');
    return r[1];
  });
  const out = decoder.decode(packLeaves(from, leaves, []));
  for (let k = 0; k < rows.length; k++) {
    if (out.status[k] !== STATUS_FAST) continue;
    const r = rows[k]!;
    const o = STRINGS_PER_LEAF * k;
    if (
      r[0] !== from + k ||
      r[2] !== out.strings[o] ||
      r[3] !== out.strings[o + 2] ||
      r[4] !== out.nums[2 * k + 1]
    )
      out.status[k] = STATUS_REFERENCE;
  }
  return out;
}

/** Lays rows' leaf bytes out as a ChunkInput (each leaf after a 0x00 byte). */
export function packLeaves(from: number, leaves: readonly Uint8Array[], keys: KeyHint[]): ChunkInput {
  const n = leaves.length;
  let total = 0;
  for (const l of leaves) total += l.length + 1;
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(n + 1);
  let at = 0;
  for (let k = 0; k < n; k++) {
    offsets[k] = at;
    bytes[at] = 0;
    bytes.set(leaves[k]!, at + 1);
    at += leaves[k]!.length + 1;
  }
  offsets[n] = at;
  return { from, count: n, bytes, offsets, keys };
}

/** The transferable buffers of a chunk output (to post it without copying). */
export function outputTransfer(o: Omit<ChunkOutput, 'strings'>): ArrayBuffer[] {
  return [o.status, o.kind, o.sig, o.nums, o.leafHashes, o.sigKeys, o.fps, o.inputFps, o.inputStart].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
