// The monitor's leaf checks, incremental: it continues from a saved state (the compact
// range, the chain heads and the registry records up to the last verified checkpoint)
// instead of replaying the log from leaf 0 as `verifyLog` does. The checks are the
// verifier's, in the verifier's order, with the same ledger-core rules (Registry,
// registryEffects, unregisteredReferences, isGenesisKeyEvent) and chain rule (checkLink):
// only the lineage check (every input an earlier event) is left to `civic-ledger verify`,
// since it needs every event hash of the log. Pure: no I/O, testable on plain arrays.
import { chainKey, checkLink, EMPTY_HEAD } from '@civic-ledger/chain';
import { fromHex, parseVerifierKey, toHex, type VerifierKey } from '@civic-ledger/crypto';
import { verifyEventSignature } from '@civic-ledger/events';
import { decodeLeaf, LeafError, type DecodedLeaf } from '@civic-ledger/leaf';
import {
  isGenesisKeyEvent,
  LedgerError,
  Registry,
  registryEffects,
  unregisteredReferences,
} from '@civic-ledger/ledger-core';
import { CompactRange, hashLeaf, newNodeBatch } from '@civic-ledger/merkle';
import { OPERATOR_ORG, SchemaError, validateEvent, type Event } from '@civic-ledger/schemas';
import type { RegistryRecord } from '@civic-ledger/storage';
import type { HeadState } from './state.ts';

/** What failed for a leaf (the verifier's codes, plus EQUIVOCATION for a fork inside the log). */
export type EntryCheck =
  | 'LEAF_MALFORMED'
  | 'LEAF_INDEX'
  | 'EVENT_SCHEMA'
  | 'EVENT_HASH'
  | 'GENESIS'
  | 'UNKNOWN_KEY'
  | 'KEY_REVOKED'
  | 'BAD_SIGNATURE'
  | 'CHAIN_BREAK'
  | 'EQUIVOCATION'
  | 'UNKNOWN_EMITTER'
  | 'NOT_PERMITTED'
  | 'UNKNOWN_SUBJECT'
  | 'ALREADY_REGISTERED';

/** A leaf that passed every check. */
export interface VerifiedEntry {
  index: number;
  /** The exact leaf text. */
  leaf: string;
  /** Hex RFC 9162 leaf hash. */
  leafHash: string;
  eventHash: string;
  event: Event;
  /** Base64 event signature. */
  signature: string;
  admitted: string;
  chain: string;
}

/** A leaf that failed: the first check that failed, and what a reader needs to see why. */
export interface EntryFailure {
  index: number;
  check: EntryCheck;
  message: string;
  leaf: string;
  leafHash: string;
  eventHash?: string;
  event?: Event;
  /** KEY_REVOKED: the key, where it was revoked, and whether the signature is the key's. */
  key?: string;
  revokedAt?: number;
  compromisedSince?: string;
  signatureValid?: boolean;
  /** CHAIN_BREAK / EQUIVOCATION: where the chain stood, and the event already at that seq. */
  head?: { seq: number; hash: string };
  existing?: { seq: number; hash: string };
}

export type LeafVerdict = { ok: true; entry: VerifiedEntry } | { ok: false; failure: EntryFailure };

/** What a replay continues from (a part of MonitorState). */
export interface ReplayState {
  size: number;
  border: readonly string[];
  heads: Readonly<Record<string, HeadState>>;
  registry: readonly RegistryRecord[];
}

export interface ReplayOptions {
  /** Pin the operator's first key too (verifier-key text); else taken from leaf 0. */
  operatorKey?: string;
  /** The hash of the event at an earlier seq of a chain, when known: tells a fork from a replay. */
  hashAt?: (chain: string, seq: number) => string | undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

class Failed extends Error {
  readonly failure: EntryFailure;
  constructor(failure: EntryFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

/**
 * Leaves in ledger order from a saved position. `check` checks the next leaf and, when it
 * passes, applies its effects; after a failure nothing more is checked (the rest of the log
 * cannot be judged against a state that is wrong), but `hashOnly` still extends the tree, so
 * the root of what the server sent can be compared with a checkpoint.
 */
export class LogReplay {
  readonly #range: CompactRange;
  readonly #registry: Registry;
  readonly #records: RegistryRecord[];
  readonly #heads: Map<string, HeadState>;
  readonly #options: ReplayOptions;
  readonly #batch = newNodeBatch();
  #failure: EntryFailure | undefined;

  constructor(state: ReplayState, options: ReplayOptions = {}) {
    this.#range = CompactRange.fromBorder(state.size, state.border.map(fromHex));
    this.#records = state.registry.map((r) => ({ ...r }));
    this.#registry = Registry.fromRecords(this.#records);
    this.#heads = new Map(Object.entries(state.heads).map(([k, v]) => [k, { ...v }]));
    this.#options = options;
  }

  /** Leaves seen (checked or only hashed). */
  get size(): number {
    return this.#range.size;
  }

  /** The first failure, if any. */
  get failure(): EntryFailure | undefined {
    return this.#failure;
  }

  /** Hex root of the tree of every leaf seen. */
  rootHex(): string {
    return toHex(this.#range.root());
  }

  /** The state to save (only meaningful while no leaf failed). */
  snapshot(): ReplayState & { rootHash: string } {
    return {
      size: this.#range.size,
      rootHash: this.rootHex(),
      border: this.#range.hashes.map(toHex),
      heads: Object.fromEntries([...this.#heads].map(([k, v]) => [k, { ...v }])),
      registry: this.#records.map((r) => ({ ...r })),
    };
  }

  /** The registry as replayed so far (keys in force, organizations, resources). */
  get registry(): Registry {
    return this.#registry;
  }

  /** Where a chain stands. */
  head(chain: string): HeadState | undefined {
    return this.#heads.get(chain);
  }

  #append(leaf: Uint8Array): string {
    const h = hashLeaf(leaf);
    this.#range.append(h, this.#batch);
    // The batch (nodes a store would write) is not needed: keep it from growing.
    this.#batch.ids.length = 0;
    this.#batch.hashes.length = 0;
    return toHex(h);
  }

  /** Extends the tree with a leaf without checking it (after a failure). */
  hashOnly(leaf: Uint8Array): void {
    this.#append(leaf);
  }

  /**
   * Checks the leaf at position `size`. `served` is what the server derived for the row
   * (its index and event hash), cross-checked when given.
   */
  check(leaf: Uint8Array, served: { index?: number; eventHash?: string } = {}): LeafVerdict {
    if (this.#failure) throw new Error('LogReplay: a leaf already failed; use hashOnly');
    const pos = this.#range.size;
    const leafHash = this.#append(leaf);
    try {
      return { ok: true, entry: this.#verify(pos, leaf, leafHash, served) };
    } catch (e) {
      if (!(e instanceof Failed)) throw e;
      this.#failure = e.failure;
      return { ok: false, failure: e.failure };
    }
  }

  #verify(
    pos: number,
    bytes: Uint8Array,
    leafHash: string,
    served: { index?: number; eventHash?: string },
  ): VerifiedEntry {
    const text = decoder.decode(bytes);
    const base = { index: pos, leaf: text, leafHash };
    let leaf: DecodedLeaf;
    try {
      leaf = decodeLeaf(bytes);
    } catch (e) {
      if (!(e instanceof LeafError)) throw e;
      throw new Failed({ ...base, check: 'LEAF_MALFORMED', message: `${e.code}: ${e.message}` });
    }
    const hash = leaf.eventHash;
    const fail = (check: EntryCheck, message: string, more: Partial<EntryFailure> = {}): never => {
      throw new Failed({ ...base, eventHash: hash, check, message, ...more });
    };
    if (served.index !== undefined && served.index !== pos)
      fail('LEAF_INDEX', `the server returned entry ${served.index} at position ${pos}`);
    if (leaf.index !== pos) fail('LEAF_INDEX', `the leaf at position ${pos} says index ${leaf.index}`);
    let e: Event;
    try {
      const v = validateEvent(leaf.event);
      if (v.canonical !== leaf.eventCanonical)
        fail('EVENT_SCHEMA', 'the validated event does not have the canonical form in the leaf');
      e = v.event;
    } catch (err) {
      if (!(err instanceof SchemaError)) throw err;
      return fail('EVENT_SCHEMA', `${err.code}: ${err.message}`);
    }
    const withEvent = { event: e };
    if (served.eventHash !== undefined && served.eventHash !== hash)
      fail(
        'EVENT_HASH',
        `the server says event hash ${served.eventHash}; the leaf's event hashes to ${hash}`,
        withEvent,
      );
    const signature = new Uint8Array(Buffer.from(leaf.signature, 'base64'));

    // The key in force at this position (leaf 0 brings the operator's first key).
    let key: VerifierKey;
    if (pos === 0) {
      if (!isGenesisKeyEvent(e))
        fail('GENESIS', 'leaf 0 is not the operator adding its own key, signed by it', withEvent);
      const keyText = (e as Extract<Event, { type: 'key' }>).publicKey ?? '';
      if (this.#options.operatorKey !== undefined && keyText !== this.#options.operatorKey.trim())
        fail('GENESIS', 'leaf 0 adds an operator key other than the pinned one', withEvent);
      try {
        key = parseVerifierKey(keyText);
      } catch (cause) {
        return fail(
          'GENESIS',
          `leaf 0's operator key is not a verifier key: ${(cause as Error).message}`,
          withEvent,
        );
      }
    } else {
      const ks = this.#registry.key(e.key);
      if (ks === undefined)
        return fail('UNKNOWN_KEY', `key ${e.key} is not registered at ledger index ${pos}`, withEvent);
      if (ks.org !== e.emitter)
        fail('UNKNOWN_KEY', `key ${e.key} belongs to ${ks.org}, not ${e.emitter}`, withEvent);
      if (ks.revokedAt !== undefined) {
        // Whether the revoked key really signed it: a stolen key, or a forged leaf.
        const signatureValid = verifyEventSignature(hash, signature, ks.verifier);
        fail('KEY_REVOKED', `key ${e.key} was revoked at ledger index ${ks.revokedAt}, used at ${pos}`, {
          ...withEvent,
          key: e.key,
          revokedAt: ks.revokedAt,
          signatureValid,
          ...(ks.compromisedSince === undefined ? {} : { compromisedSince: ks.compromisedSince }),
        });
      }
      key = ks.verifier;
    }
    if (!verifyEventSignature(hash, signature, key))
      fail('BAD_SIGNATURE', `signature does not verify with key ${e.key}`, withEvent);

    // The emitter's chain: seq from 1, each prev the previous event's hash.
    const chain = chainKey(e.emitter, e.stream);
    const h = this.#heads.get(chain);
    const head = h ? { seq: h.seq, hash: h.hash } : EMPTY_HEAD;
    const outcome = checkLink(head, { seq: e.seq, prev: e.prev, hash }, (seq) =>
      this.#options.hashAt?.(chain, seq),
    );
    if (outcome.kind === 'fork') {
      fail(
        'EQUIVOCATION',
        `chain ${chain} already holds another event at seq ${e.seq} (${outcome.existingHash})`,
        { ...withEvent, head, existing: { seq: e.seq, hash: outcome.existingHash } },
      );
    }
    if (outcome.kind !== 'ok') {
      const why =
        outcome.kind === 'gap'
          ? `seq ${e.seq} where ${outcome.expectedSeq} was next`
          : outcome.kind === 'bad-prev'
            ? `prev ${e.prev} does not name the previous event ${outcome.expectedPrev}`
            : outcome.kind === 'duplicate'
              ? `the event at seq ${e.seq} appears again: replayed`
              : `seq ${e.seq} is at or below the chain head (seq ${head.seq}): replayed or reordered`;
      fail('CHAIN_BREAK', `chain ${chain} breaks: ${why}`, { ...withEvent, head });
    }

    // Who may emit what.
    if (e.emitter !== OPERATOR_ORG) {
      const org = this.#registry.org(e.emitter);
      if (!org) return fail('UNKNOWN_EMITTER', `organization ${e.emitter} is not registered`, withEvent);
      if (e.type === 'attest' && org.role !== 'oversight')
        fail('NOT_PERMITTED', `attest by ${e.emitter}, which is not an oversight body`, withEvent);
      if (e.type === 'finding' && org.role !== 'compliance')
        fail('NOT_PERMITTED', `finding by ${e.emitter}, which is not the compliance service`, withEvent);
    }
    const unregistered = unregisteredReferences(e, this.#registry);
    if (unregistered) fail('UNKNOWN_SUBJECT', unregistered.message, withEvent);
    let effects: RegistryRecord[];
    try {
      effects = registryEffects(e, pos, this.#registry);
    } catch (err) {
      if (!(err instanceof LedgerError)) throw err;
      const check: EntryCheck =
        err.code === 'ALREADY_REGISTERED' || err.code === 'UNKNOWN_SUBJECT' ? err.code : 'EVENT_SCHEMA';
      return fail(check, err.message, withEvent);
    }
    for (const rec of effects) {
      this.#registry.apply(rec);
      this.#records.push(rec);
    }
    this.#heads.set(chain, { seq: e.seq, hash, index: pos });
    return {
      index: pos,
      leaf: text,
      leafHash,
      eventHash: hash,
      event: e,
      signature: leaf.signature,
      admitted: leaf.admitted,
      chain,
    };
  }
}
