// Numbers, links, hashes and signs events: one chain per (emitter, stream), a ledger clock
// that never runs backwards, and the wire form `{ event, signature }` with the event hash
// attached as a non-enumerable `hash` (so it is never serialized or submitted).
import { fromHex, signDigest, type SigningKey } from '@civic-ledger/crypto';
import { eventHashOfCanonical, signEvent, type SignedEventWire } from '@civic-ledger/events';
import {
  canonicalEventText,
  GENESIS_PREV,
  validateEvent,
  type Event,
  type EventInput,
} from '@civic-ledger/schemas';

/** A signed submission in wire form; `hash` (the event hash) is not enumerable. */
export type DemoSubmission = SignedEventWire & { readonly hash: string };

type EnvelopeKey = 'v' | 'emitter' | 'stream' | 'seq' | 'prev' | 'time' | 'key';
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event without its envelope: what a generator step decides. */
export type EventBody = DistributiveOmit<Event, EnvelopeKey>;

/** Base64 of 64 zero bytes: the placeholder signature of `sign: false`. */
export const PLACEHOLDER_SIGNATURE = `${'A'.repeat(86)}==`;

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
let cachedDay = Number.NaN;
let cachedPrefix = '';

/** RFC 3339 UTC text of `ms`, truncated to whole seconds (`2026-10-05T13:22:07Z`). */
export function isoSeconds(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const day = Math.floor(sec / 86_400);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
  }
  const s = sec - day * 86_400;
  return `${cachedPrefix}${PAD2[Math.floor(s / 3600)]!}:${PAD2[Math.floor((s % 3600) / 60)]!}:${PAD2[s % 60]!}Z`;
}

export interface WriterOptions {
  keys: ReadonlyMap<string, SigningKey>;
  sign: boolean;
  validate: boolean;
}

interface ChainState {
  seq: number;
  prev: string;
}

export class Writer {
  readonly #opts: WriterOptions;
  readonly #chains = new Map<string, ChainState>();
  #clock = 0;
  #clockSecond = -1;
  #clockText = '';

  constructor(options: WriterOptions) {
    this.#opts = options;
  }

  /** The ledger clock: the time of the last event written (ms). */
  get clock(): number {
    return this.#clock;
  }

  /** RFC 3339 text (whole seconds, UTC) of the clock. */
  get clockText(): string {
    return this.#clockText;
  }

  /** Writes the next event of `org`'s `stream` at `atMs` (or the clock, if that is later). */
  write(org: string, stream: string, atMs: number, body: EventBody): DemoSubmission {
    const key = this.#opts.keys.get(org);
    if (key === undefined) throw new Error(`demo city: no key for organization ${org}`);
    const time = this.#advance(atMs);
    const chainId = `${org} ${stream}`;
    let chain = this.#chains.get(chainId);
    if (chain === undefined) {
      chain = { seq: 0, prev: GENESIS_PREV };
      this.#chains.set(chainId, chain);
    }
    const event = {
      v: 1,
      emitter: org,
      stream,
      seq: chain.seq + 1,
      prev: chain.prev,
      time,
      key: key.name,
      ...body,
    } as EventInput;
    let hash: string;
    let signature: string;
    if (this.#opts.validate && this.#opts.sign) {
      const signed = signEvent(event, key);
      hash = signed.hash;
      signature = signed.wire.signature;
    } else {
      // The same canonical text and hash signEvent computes, without re-validating what
      // the generator built (the tests validate every event of it).
      const canonical = this.#opts.validate
        ? validateEvent(event).canonical
        : canonicalEventText(event as Event);
      hash = eventHashOfCanonical(canonical);
      signature = this.#opts.sign
        ? Buffer.from(signDigest(key, 'event', fromHex(hash))).toString('base64')
        : PLACEHOLDER_SIGNATURE;
    }
    chain.seq += 1;
    chain.prev = hash;
    const wire = { event: event as Record<string, unknown>, signature };
    return Object.defineProperty(wire, 'hash', { value: hash, enumerable: false }) as DemoSubmission;
  }

  #advance(atMs: number): string {
    if (atMs > this.#clock) this.#clock = atMs;
    const second = Math.floor(this.#clock / 1000);
    if (second !== this.#clockSecond) {
      this.#clockSecond = second;
      this.#clockText = isoSeconds(second * 1000);
    }
    return this.#clockText;
  }
}
