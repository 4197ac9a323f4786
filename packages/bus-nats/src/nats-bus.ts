// The bus contract on NATS JetStream (nats.js v3). Streams hold the messages (one file-backed
// stream per subject family, made by the bus when first used); a group is a durable pull
// consumer with explicit acks; a fan-out subscriber is an ordered consumer that starts after
// the stream's last message. See README.md for what each guarantee rests on.
import {
  deadLetter,
  deadLetterSubject,
  type BatchHandler,
  type BatchSubscribeOptions,
  type Bus,
  type Handler,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from '@civic-ledger/bus';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type StreamInfo,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { BusNatsError } from './errors.ts';
import { Member } from './member.ts';
import { checkSubject, durableNameFor, encodeHeaders, streamNameFor, subjectFamily } from './naming.ts';
import { resolveOptions, type NatsBusOptions, type ResolvedOptions } from './options.ts';

/** What a readiness endpoint reports. */
export interface NatsBusStatus {
  /** Connected and JetStream answered just now. */
  ready: boolean;
  connected: boolean;
  jetstream: boolean;
  /** The server's name and version, as it announced them. */
  server: string | undefined;
  version: string | undefined;
  /** Why it is not ready. */
  error?: string;
}

// JetStream API error codes (err_code) the bus reacts to.
const CONSUMER_NOT_FOUND = 10014;
const STREAM_NAME_IN_USE = 10058;
const STREAM_NOT_FOUND = 10059;
const SUBJECTS_OVERLAP = 10065;

/** The consumers API of nats.js v3 needs 2.9.4 (the server's create-consumer-by-name API). */
const MIN_SERVER = [2, 9, 4] as const;

const apiCode = (e: unknown) => (e instanceof JetStreamApiError ? e.code : undefined);
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

function olderThan(version: string | undefined, min: readonly number[]): boolean {
  const parts = (version ?? '').split(/[.-]/).map((x) => Number.parseInt(x, 10));
  for (let i = 0; i < min.length; i++) {
    const p = parts[i] ?? 0;
    if (Number.isNaN(p)) return true;
    if (p !== min[i]) return p < min[i]!;
  }
  return false;
}

class Timeout extends Error {}

/** Rejects with `Timeout` after `ms`; the work itself goes on (nothing can cancel a request). */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Timeout()), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface Joined {
  member: Member;
  close(): Promise<void>;
}

export class NatsBus implements Bus {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #o: ResolvedOptions;
  /** subject -> the stream that holds it, once made or found. */
  readonly #streams = new Map<string, Promise<string>>();
  readonly #subs = new Set<Joined>();
  #connected = true;
  #closing: Promise<void> | undefined;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, o: ResolvedOptions) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc, { timeout: o.apiTimeoutMs });
    this.#o = o;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.#connected = false;
        else if (s.type === 'reconnect') this.#connected = true;
      }
    })().catch(() => undefined);
  }

  /**
   * Connects and checks that JetStream answers. The client reconnects on its own afterwards
   * (forever unless `connection.maxReconnectAttempts` says otherwise).
   */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const o = resolveOptions(options);
    let nc: NatsConnection;
    try {
      nc = await connect({
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        ...o.connection,
        servers: o.servers,
        name: o.name,
      });
    } catch (e) {
      throw new BusNatsError('CONNECT_FAILED', `cannot connect to ${o.servers.join(', ')}: ${messageOf(e)}`, {
        cause: e,
      });
    }
    try {
      if (olderThan(nc.info?.version, MIN_SERVER)) {
        throw new Error(
          `the server runs ${nc.info?.version ?? 'an unknown version'}; the bus needs ${MIN_SERVER.join('.')} or newer`,
        );
      }
      const jsm = await jetstreamManager(nc, { timeout: o.apiTimeoutMs });
      return new NatsBus(nc, jsm, o);
    } catch (e) {
      await nc.close().catch(() => undefined);
      throw new BusNatsError(
        'CONNECT_FAILED',
        `JetStream is not available on ${nc.getServer()}: ${messageOf(e)}`,
        {
          cause: e,
        },
      );
    }
  }

  /** Resolves once the stream stored the message (the JetStream PubAck), within `publishTimeoutMs`. */
  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    this.#assertOpen();
    checkSubject(subject);
    const headers = encodeHeaders(options.key, options.headers);
    const msgID = this.#o.msgId?.(subject, data, options);
    const deadline = Date.now() + this.#o.publishTimeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const attempt = async () => {
      for (let tries = 0; ; tries++) {
        await this.#stream(subject);
        try {
          await this.#js.publish(subject, data, {
            timeout: left(),
            ...(headers === undefined ? {} : { headers }),
            ...(msgID === undefined ? {} : { msgID }),
          });
          return;
        } catch (e) {
          // No stream listens (deleted underneath): make it again, once.
          if (tries === 0 && /jetstream is not enabled|no responders/i.test(messageOf(e))) {
            this.#streams.delete(subject);
            continue;
          }
          throw e;
        }
      }
    };
    try {
      await within(left(), attempt());
    } catch (e) {
      if (e instanceof Timeout || (e instanceof Error && e.name === 'TimeoutError')) {
        throw new BusNatsError(
          'PUBLISH_TIMEOUT',
          `publish to ${subject}: not stored within ${this.#o.publishTimeoutMs} ms (${this.#connected ? 'the server did not answer' : 'disconnected'}); it may still be stored later`,
          { cause: e },
        );
      }
      if (e instanceof BusNatsError) throw e;
      throw new BusNatsError('PUBLISH_FAILED', `publish to ${subject}: ${messageOf(e)}`, { cause: e });
    }
  }

  async subscribe(subject: string, handler: Handler, options: SubscribeOptions = {}): Promise<Subscription> {
    return this.#join(subject, options.group, (ms) => handler(ms[0]!), {
      batchSize: 1,
      prefetch: this.#o.prefetch,
      maxAttempts: options.maxAttempts ?? 5,
      retryDelayMs: 0,
    });
  }

  async subscribeBatch(
    subject: string,
    handler: BatchHandler,
    options: BatchSubscribeOptions,
  ): Promise<Subscription> {
    if (typeof options?.group !== 'string' || options.group === '') {
      throw new BusNatsError('INVALID_OPTIONS', 'subscribeBatch: group must be a non-empty string');
    }
    const maxMessages = options.maxMessages ?? 500;
    if (!Number.isSafeInteger(maxMessages) || maxMessages < 1) {
      throw new BusNatsError('INVALID_OPTIONS', 'subscribeBatch: maxMessages must be an integer >= 1');
    }
    return this.#join(subject, options.group, handler, {
      batchSize: maxMessages,
      prefetch: 2 * maxMessages,
      maxAttempts: options.maxAttempts ?? 5,
      retryDelayMs: options.retryDelayMs ?? 100,
    });
  }

  /** Stops every subscription (running handlers finish first, up to `closeTimeoutMs`), then drains the connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#subs].map((s) => s.close()));
      try {
        await within(this.#o.closeTimeoutMs, this.#nc.drain());
      } catch {
        await this.#nc.close().catch(() => undefined);
      }
    })();
    return this.#closing;
  }

  /** Whether the connection is up and JetStream answers (for a readiness endpoint). */
  async status(): Promise<NatsBusStatus> {
    const server = this.#nc.info?.server_name;
    const version = this.#nc.info?.version;
    if (this.#closing !== undefined || this.#nc.isClosed()) {
      return {
        ready: false,
        connected: false,
        jetstream: false,
        server,
        version,
        error: this.#closing === undefined ? 'the connection is closed' : 'the bus is closed',
      };
    }
    if (!this.#connected) {
      return {
        ready: false,
        connected: false,
        jetstream: false,
        server,
        version,
        error: 'disconnected; reconnecting',
      };
    }
    try {
      await within(this.#o.apiTimeoutMs, this.#jsm.getAccountInfo());
      return { ready: true, connected: true, jetstream: true, server, version };
    } catch (e) {
      const error =
        e instanceof Timeout ? `JetStream did not answer within ${this.#o.apiTimeoutMs} ms` : messageOf(e);
      return { ready: false, connected: this.#connected, jetstream: false, server, version, error };
    }
  }

  /** `status().ready`. */
  async ready(): Promise<boolean> {
    return (await this.status()).ready;
  }

  /** The name of the stream that holds `subject`, making the stream when there is none. */
  async streamFor(subject: string): Promise<string> {
    this.#assertOpen();
    checkSubject(subject);
    return this.#stream(subject);
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new BusNatsError('CLOSED', 'the bus is closed');
  }

  async #join(
    subject: string,
    group: string | undefined,
    handler: BatchHandler,
    shape: { batchSize: number; prefetch: number; maxAttempts: number; retryDelayMs: number },
  ): Promise<Subscription> {
    this.#assertOpen();
    checkSubject(subject);
    if (group !== undefined && (typeof group !== 'string' || group === '')) {
      throw new BusNatsError('INVALID_OPTIONS', 'group must be a non-empty string');
    }
    if (!(shape.maxAttempts >= 1))
      throw new BusNatsError('INVALID_OPTIONS', 'maxAttempts must be >= 1 (or Infinity)');
    if (!(shape.retryDelayMs >= 0)) throw new BusNatsError('INVALID_OPTIONS', 'retryDelayMs must be >= 0');
    const consumer =
      group === undefined
        ? await this.#fanOut(subject)
        : await this.#durable(subject, group, 2 * shape.prefetch);
    const member = new Member(consumer, {
      subject,
      acks: group !== undefined,
      ...shape,
      pullExpiresMs: this.#o.pullExpiresMs,
      ackWaitMs: this.#o.ackWaitMs,
      handler,
      deadLetter: (m, reason) => deadLetter(this, m, reason),
      onError: this.#o.onError,
      // The stream or the durable was deleted underneath: look both up again.
      ...(group === undefined
        ? {}
        : {
            reopen: () => {
              this.#streams.delete(subject);
              return this.#durable(subject, group, 2 * shape.prefetch);
            },
          }),
    });
    let closing: Promise<void> | undefined;
    const joined: Joined = {
      member,
      close: () =>
        (closing ??= (async () => {
          await member.close(this.#o.closeTimeoutMs);
          this.#subs.delete(joined);
          // An ordered consumer is ours alone: remove it now rather than after its inactivity timeout.
          if (group === undefined)
            await within(this.#o.apiTimeoutMs, member.consumer.delete()).catch(() => undefined);
          // Acks and naks are plain publishes: make sure they left.
          if (!this.#nc.isClosed())
            await within(this.#o.apiTimeoutMs, this.#nc.flush()).catch(() => undefined);
        })()),
    };
    this.#subs.add(joined);
    if (this.#closing !== undefined) await joined.close();
    return { close: () => joined.close() };
  }

  /** A durable pull consumer named after the group; all of the stream's retained messages on a new one. */
  async #durable(subject: string, group: string, minAckPending: number): Promise<Consumer> {
    const stream = await this.#stream(subject);
    const name = durableNameFor(group, subject, stream === streamNameFor(subject, this.#o.streamPrefix));
    const maxAckPending = Math.max(this.#o.maxAckPending, minAckPending);
    const want: Partial<ConsumerConfig> = {
      durable_name: name,
      description: `civic-ledger bus: group ${group} on ${subject}`,
      ack_policy: AckPolicy.Explicit,
      // A work queue must not lose what was published before its first member started.
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      ack_wait: nanos(this.#o.ackWaitMs),
      // Attempts are counted here (dead letters need the message); the server never gives up.
      max_deliver: -1,
      max_ack_pending: maxAckPending,
      replay_policy: ReplayPolicy.Instant,
    };
    let ci = await this.#api(
      `consumer ${name} on ${stream}`,
      () => this.#jsm.consumers.info(stream, name),
      true,
    );
    if (ci === undefined) {
      try {
        ci = await this.#jsm.consumers.add(stream, want);
      } catch (e) {
        // Another member made it at the same moment.
        ci = await this.#api(
          `consumer ${name} on ${stream}`,
          () => this.#jsm.consumers.info(stream, name),
          true,
        );
        if (ci === undefined) throw this.#apiError(`creating consumer ${name} on ${stream}`, e);
      }
    } else {
      const c = ci.config;
      // 2.9 would silently rewrite the filter of an existing durable: refuse instead.
      if (c.filter_subject !== subject || c.ack_policy !== AckPolicy.Explicit) {
        throw new BusNatsError(
          'CONSUMER_CONFLICT',
          `group ${group}: consumer ${name} on stream ${stream} exists for ${c.filter_subject ?? 'all subjects'} with ack policy ${c.ack_policy}, not for ${subject} with explicit acks`,
        );
      }
      if (c.ack_wait !== want.ack_wait || c.max_deliver !== -1 || (c.max_ack_pending ?? 0) < maxAckPending) {
        const update = {
          ack_wait: want.ack_wait!,
          max_deliver: -1,
          max_ack_pending: Math.max(maxAckPending, c.max_ack_pending ?? 0),
        };
        ci = await this.#api(`updating consumer ${name} on ${stream}`, () =>
          this.#jsm.consumers.update(stream, name, update),
        );
      }
    }
    return this.#js.consumers.getConsumerFromInfo(ci);
  }

  /** An ordered consumer from the message after the stream's last one: what is published from now on. */
  async #fanOut(subject: string): Promise<Consumer> {
    const stream = await this.#stream(subject);
    const si = await this.#api(`stream ${stream}`, () => this.#jsm.streams.info(stream));
    // Not DeliverPolicy.New: the client restarts an ordered consumer that has seen nothing yet
    // from its configured start sequence, which for "new" would be the stream's first message.
    return this.#api(`ordered consumer on ${stream}`, () =>
      this.#js.consumers.get(stream, {
        filter_subjects: subject,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: si.state.last_seq + 1,
      }),
    );
  }

  #stream(subject: string): Promise<string> {
    let p = this.#streams.get(subject);
    if (p === undefined) {
      p = this.#ensureStream(subject);
      this.#streams.set(subject, p);
      p.catch(() => this.#streams.delete(subject));
    }
    return p;
  }

  /**
   * The stream for a subject: one that already holds it (made by an operator, left as it is),
   * else the bus's own stream of the subject's family, made or brought to the configured
   * limits and given the subject if it lacks it.
   */
  async #ensureStream(subject: string): Promise<string> {
    const family = subjectFamily(subject);
    const own = streamNameFor(subject, this.#o.streamPrefix);
    const holder = await this.#api(`the stream of ${subject}`, () => this.#jsm.streams.find(subject), true);
    if (holder !== undefined && holder !== own) return holder;
    const { maxAgeMs, duplicateWindowMs } = this.#o;
    const limits = {
      max_age: nanos(maxAgeMs),
      max_bytes: this.#o.maxBytes,
      // The server refuses a duplicate window longer than max age.
      duplicate_window: nanos(maxAgeMs > 0 ? Math.min(duplicateWindowMs, maxAgeMs) : duplicateWindowMs),
    };
    let si: StreamInfo | undefined = await this.#api(
      `stream ${own}`,
      () => this.#jsm.streams.info(own),
      true,
    );
    // The family and its dead letters; only the subject itself when another stream holds
    // part of the family (an operator's stream for the subject, not for its dead letters).
    const choices = [[...new Set([family, deadLetterSubject(family), subject])], [subject]];
    for (const subjects of si === undefined ? choices : []) {
      try {
        await this.#jsm.streams.add({
          name: own,
          description: `civic-ledger bus: ${family} and its dead letters`,
          subjects,
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          num_replicas: this.#o.replicas,
          ...limits,
        });
        return own;
      } catch (e) {
        if (apiCode(e) === SUBJECTS_OVERLAP && subjects.length > 1) continue;
        if (apiCode(e) === SUBJECTS_OVERLAP) throw this.#overlap(subject, own, e);
        if (apiCode(e) !== STREAM_NAME_IN_USE) throw this.#apiError(`creating stream ${own}`, e);
        si = await this.#api(`stream ${own}`, () => this.#jsm.streams.info(own));
        break;
      }
    }
    if (si === undefined) throw new BusNatsError('JETSTREAM_API', `stream ${own} could not be created`);
    const subjects = si.config.subjects ?? [];
    const c = si.config;
    if (
      !subjects.includes(subject) ||
      c.max_age !== limits.max_age ||
      c.max_bytes !== limits.max_bytes ||
      c.duplicate_window !== limits.duplicate_window
    ) {
      try {
        await this.#jsm.streams.update(own, {
          subjects: subjects.includes(subject) ? subjects : [...subjects, subject],
          ...limits,
        });
      } catch (e) {
        if (apiCode(e) === SUBJECTS_OVERLAP) throw this.#overlap(subject, own, e);
        throw this.#apiError(`updating stream ${own}`, e);
      }
    }
    return own;
  }

  #overlap(subject: string, stream: string, cause: unknown): BusNatsError {
    return new BusNatsError(
      'STREAM_CONFLICT',
      `stream ${stream} for ${subject}: another stream holds an overlapping subject; add ${subject} to that stream or remove it`,
      { cause },
    );
  }

  #apiError(what: string, e: unknown): BusNatsError {
    if (e instanceof BusNatsError) return e;
    return new BusNatsError('JETSTREAM_API', `${what}: ${messageOf(e)}`, { cause: e });
  }

  /** One JetStream API call; with `orMissing`, "not found" is `undefined` rather than an error. */
  async #api<T>(what: string, call: () => Promise<T>, orMissing: true): Promise<T | undefined>;
  async #api<T>(what: string, call: () => Promise<T>): Promise<T>;
  async #api<T>(what: string, call: () => Promise<T>, orMissing = false): Promise<T | undefined> {
    try {
      return await call();
    } catch (e) {
      const code = apiCode(e);
      if (orMissing && (code === STREAM_NOT_FOUND || code === CONSUMER_NOT_FOUND)) return undefined;
      throw this.#apiError(what, e);
    }
  }
}
