// An emitter: an organization's identity (its Ed25519 signing key) writing typed events
// on its streams. It fills the envelope (emitter, stream, seq, prev, time, key), signs,
// writes the signed event to the outbox, sends it and records the receipt.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  formatVerifierKey,
  generateSigningKey,
  readSigningKeyFile,
  writeSigningKeyFile,
  type SigningKey,
} from '@civic-ledger/crypto';
import { KEY_NAME, ownerOf, STREAM_ID, type EventInput } from '@civic-ledger/schemas';
import type { SignedReceipt } from '@civic-ledger/receipts';
import { ClientError } from './errors.ts';
import type { LedgerClient } from './client.ts';
import { Outbox, type EventOutcome, type OutboxOptions } from './outbox.ts';
import { prepareEvent, type PreparedEvent } from './prepare.ts';

/** Envelope members the Emitter fills in. */
type Envelope = 'v' | 'emitter' | 'stream' | 'seq' | 'prev' | 'time' | 'key';
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * A typed event without its envelope: any v1 event type (`collect` ... `finding`), with
 * optional `stream` (default: the Emitter's), `time` (default: now) and `traceId`.
 */
export type EventBody = DistributiveOmit<EventInput, Envelope> & { stream?: string; time?: string };

export interface EmitterOptions {
  outbox: Outbox;
  /** The registered key that signs; its name is `<organization>/<label>`. */
  key: SigningKey;
  /** Default stream (default `main`). */
  stream?: string;
  /** Clock for `time` (default Date.now). */
  now?: () => number;
}

/** A signed event written to the outbox and sent, with its receipt. */
export interface Emitted {
  hash: string;
  /** The event as signed. */
  event: EventInput;
  receipt: SignedReceipt;
  duplicate: boolean;
}

export class Emitter {
  readonly outbox: Outbox;
  readonly key: SigningKey;
  /** The organization: the owner part of the key name. */
  readonly org: string;
  readonly stream: string;
  readonly #now: () => number;

  constructor(options: EmitterOptions) {
    if (!KEY_NAME.test(options.key.name)) {
      throw new ClientError('INVALID_ARGUMENT', `key name ${options.key.name}: <organization>/<label>`);
    }
    const stream = options.stream ?? 'main';
    if (!STREAM_ID.test(stream)) throw new ClientError('INVALID_ARGUMENT', `stream ${stream}: a stream id`);
    this.outbox = options.outbox;
    this.key = options.key;
    this.org = ownerOf(options.key.name);
    this.stream = stream;
    this.#now = options.now ?? Date.now;
  }

  /** Opens the outbox in `stateDir` (resending what it holds pending) and an Emitter on it. */
  static async open(
    options: Omit<EmitterOptions, 'outbox'> & Omit<OutboxOptions, 'client'> & { client: LedgerClient },
  ): Promise<Emitter> {
    const { key, stream, now, ...outboxOptions } = options;
    const outbox = await Outbox.open(outboxOptions);
    return new Emitter({
      outbox,
      key,
      ...(stream === undefined ? {} : { stream }),
      ...(now === undefined ? {} : { now }),
    });
  }

  /** Closes the outbox. */
  close(): void {
    this.outbox.close();
  }

  /**
   * The signing key in `file` (mode 0600, refused when others can read it), or a new key
   * named `name` written there (0600, never overwriting) when the file does not exist.
   */
  static loadOrCreateKey(file: string, name: string): SigningKey {
    if (!KEY_NAME.test(name))
      throw new ClientError('INVALID_ARGUMENT', `key name ${name}: <organization>/<label>`);
    if (existsSync(file)) {
      const key = readSigningKeyFile(file);
      if (key.name !== name) {
        throw new ClientError('INVALID_ARGUMENT', `${file} holds key ${key.name}, not ${name}`);
      }
      return key;
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const key = generateSigningKey(name);
    writeSigningKeyFile(file, key);
    return key;
  }

  /** The public key as C2SP verifier-key text: what the operator registers (`key add`). */
  get verifierKey(): string {
    return formatVerifierKey(this.key);
  }

  /** Signs, writes to the outbox, sends; resolves with the checked receipt or throws. */
  async emit(body: EventBody): Promise<Emitted> {
    const [prepared] = await this.#prepare([body]);
    const [outcome] = await this.outbox.send([prepared!.hash]);
    if (!outcome!.ok) throw outcome!.error;
    return {
      hash: outcome!.hash,
      event: eventOf(prepared!),
      receipt: outcome!.receipt,
      duplicate: outcome!.duplicate,
    };
  }

  /**
   * Signs a batch (seq/prev chained per stream), writes it to the outbox in one
   * transaction, sends it in batch requests (<= 1000 events each) and reports each event.
   * Throws only when the ledger cannot be reached (the events stay in the outbox).
   */
  async emitMany(bodies: readonly EventBody[]): Promise<EventOutcome[]> {
    if (bodies.length === 0) return [];
    const prepared = await this.#prepare(bodies);
    return this.outbox.send(prepared.map((p) => p.hash));
  }

  /** Signs and writes events to the outbox without sending them (the next flush sends them). */
  async enqueue(bodies: readonly EventBody[]): Promise<PreparedEvent[]> {
    return this.#prepare(bodies);
  }

  async #prepare(bodies: readonly EventBody[]): Promise<PreparedEvent[]> {
    const streams = [...new Set(bodies.map((b) => b.stream ?? this.stream))];
    for (const s of streams) {
      if (!STREAM_ID.test(s)) throw new ClientError('INVALID_ARGUMENT', `stream ${s}: a stream id`);
      this.outbox.assertNotBlocked(this.org, s);
    }
    await Promise.all(streams.map((s) => this.outbox.syncChain(this.org, s)));
    // From here to the write nothing awaits: chain state read, signed and written at once.
    const heads = new Map(streams.map((s) => [s, this.outbox.chainHeadNow(this.org, s)]));
    const prepared = bodies.map((b) => {
      const { stream: given, time: givenTime, ...rest } = withoutUndefined(b);
      const stream = given ?? this.stream;
      const head = heads.get(stream)!;
      const event = {
        v: 1,
        ...rest,
        emitter: this.org,
        stream,
        seq: head.seq + 1,
        prev: head.hash,
        time: givenTime ?? new Date(this.#now()).toISOString(),
        key: this.key.name,
      } as EventInput;
      const p = prepareEvent(event, this.key);
      heads.set(stream, { seq: p.seq, hash: p.hash });
      return p;
    });
    await this.outbox.write(prepared);
    return prepared;
  }
}

/** Drops top-level members set to undefined (`traceId: ctx?.traceId`): JSON cannot say undefined. */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function eventOf(p: PreparedEvent): EventInput {
  return (JSON.parse(p.body) as { event: EventInput }).event;
}
