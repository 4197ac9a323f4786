// Emitter chains. Each (emitter, stream) numbers its events from 1 and links each to the
// previous one's hash, so anyone can detect a gap, a fork, a replay or a reordering.
// Checking a link is pure and total: it returns an outcome for any input, never throws.
import { isHex64 } from '@civic-ledger/crypto/portable';
import { GENESIS_PREV } from '@civic-ledger/schemas';

/** The last accepted event of a chain; seq 0 (and the genesis prev) for an empty chain. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = Object.freeze({ seq: 0, hash: GENESIS_PREV });

/** The link fields of a candidate event and its hash. */
export interface ChainLink {
  seq: number;
  prev: string;
  hash: string;
}

export type ChainOutcome =
  /** Extends the chain: seq is head + 1 and prev is the head's hash. */
  | { kind: 'ok' }
  /** The identical event is already at that seq: answer with its original receipt. */
  | { kind: 'duplicate'; seq: number; hash: string }
  /** seq skips ahead; the next acceptable seq is named. */
  | { kind: 'gap'; expectedSeq: number; seq: number }
  /** A different event is already at that seq. */
  | { kind: 'fork'; seq: number; existingHash: string; hash: string }
  /** seq is next but prev does not name the head. */
  | { kind: 'bad-prev'; seq: number; expectedPrev: string; prev: string }
  /** Not a well-formed link at all (defence in depth: schemas refuse these first). */
  | { kind: 'invalid'; reason: string };

export type ChainOutcomeKind = ChainOutcome['kind'];

/**
 * Decides what `candidate` is relative to a chain whose head is `head`.
 * `hashAt(seq)` returns the hash of the accepted event at an earlier seq (or undefined if
 * unknown); it is called only for seq <= head.seq, to tell a duplicate from a fork.
 */
export function checkLink(
  head: ChainHead,
  candidate: ChainLink,
  hashAt: (seq: number) => string | undefined,
): ChainOutcome {
  const { seq, prev, hash } = candidate;
  if (!Number.isSafeInteger(seq) || seq < 1)
    return { kind: 'invalid', reason: 'seq must be an integer >= 1' };
  if (typeof prev !== 'string' || !isHex64(prev))
    return { kind: 'invalid', reason: 'prev must be 64 hex digits' };
  if (typeof hash !== 'string' || !isHex64(hash))
    return { kind: 'invalid', reason: 'hash must be 64 hex digits' };
  if (seq === head.seq + 1) {
    return prev === head.hash ? { kind: 'ok' } : { kind: 'bad-prev', seq, expectedPrev: head.hash, prev };
  }
  if (seq > head.seq + 1) return { kind: 'gap', expectedSeq: head.seq + 1, seq };
  const existing = hashAt(seq);
  if (existing === undefined)
    return { kind: 'invalid', reason: `no event known at seq ${seq} below the head` };
  return existing === hash
    ? { kind: 'duplicate', seq, hash }
    : { kind: 'fork', seq, existingHash: existing, hash };
}

/** Key of a chain in maps and indexes. Neither part can contain '/' (see identifier syntax). */
export function chainKey(emitter: string, stream: string): string {
  return `${emitter}/${stream}`;
}

/**
 * Applies links in order against chain heads, so a batch may carry several consecutive
 * events of one chain. Accepted links advance the in-memory head; nothing else changes.
 * `loadHead` and `hashAt` read the committed state (e.g. a store).
 */
export class ChainBatch {
  private readonly heads = new Map<string, ChainHead>();
  private readonly pending = new Map<string, Map<number, string>>();
  private readonly loadHead: (key: string) => ChainHead;
  private readonly hashAt: (key: string, seq: number) => string | undefined;

  constructor(
    loadHead: (key: string) => ChainHead,
    hashAt: (key: string, seq: number) => string | undefined,
  ) {
    this.loadHead = loadHead;
    this.hashAt = hashAt;
  }

  head(key: string): ChainHead {
    let h = this.heads.get(key);
    if (h === undefined) {
      h = this.loadHead(key);
      this.heads.set(key, h);
    }
    return h;
  }

  /** Checks a link and, when it is `ok`, advances the chain's head to it. */
  apply(key: string, link: ChainLink): ChainOutcome {
    const outcome = checkLink(
      this.head(key),
      link,
      (seq) => this.pending.get(key)?.get(seq) ?? this.hashAt(key, seq),
    );
    if (outcome.kind === 'ok') {
      this.heads.set(key, { seq: link.seq, hash: link.hash });
      let p = this.pending.get(key);
      if (p === undefined) this.pending.set(key, (p = new Map()));
      p.set(link.seq, link.hash);
    }
    return outcome;
  }

  /** Heads changed by accepted links, to persist with the batch. */
  changedHeads(): Map<string, ChainHead> {
    const out = new Map<string, ChainHead>();
    for (const key of this.pending.keys()) out.set(key, this.heads.get(key)!);
    return out;
  }
}

/**
 * Verifies a whole chain given in seq order (for verifiers). Returns the index of the first
 * link that does not extend the chain and why, or undefined when it is intact.
 */
export function findChainBreak(
  links: readonly ChainLink[],
): { index: number; outcome: ChainOutcome } | undefined {
  let head: ChainHead = EMPTY_HEAD;
  const seen: string[] = [];
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    const outcome = checkLink(head, link, (seq) => seen[seq - 1]);
    if (outcome.kind !== 'ok') return { index: i, outcome };
    head = { seq: link.seq, hash: link.hash };
    seen.push(link.hash);
  }
  return undefined;
}
