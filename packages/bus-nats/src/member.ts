// One subscriber on one pull consumer: a durable group member (explicit acks) or a fan-out
// subscriber (an ordered consumer, no acks). It keeps one pull request out at a time for at
// most `prefetch` messages, hands them to the handler `batchSize` at a time in the order the
// server sent them, and retries a failed batch here, in this member, so later messages of the
// same key never overtake it. Only when the member goes away do its messages go back to the
// server (nak, or the ack wait running out after a crash).
import type { BatchHandler, Delivery } from '@civic-ledger/bus';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { decodeHeaders } from './naming.ts';

export interface MemberOptions {
  subject: string;
  /** Explicit acks (a durable group) or none (an ordered fan-out consumer). */
  acks: boolean;
  batchSize: number;
  /** Messages held at most: being handled plus fetched ahead (>= batchSize). */
  prefetch: number;
  maxAttempts: number;
  retryDelayMs: number;
  pullExpiresMs: number;
  ackWaitMs: number;
  handler: BatchHandler;
  deadLetter: (message: Delivery, reason: string) => Promise<void>;
  onError: (error: Error) => void;
  /** The consumer again after it vanished on the server (deleted by an operator). */
  reopen?: () => Promise<Consumer>;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Ack, nak, term and working are plain publishes: they throw only on a closed connection. */
function settle(fn: () => void): void {
  try {
    fn();
  } catch {
    // The connection is gone: the server redelivers after the ack wait.
  }
}

/** A message this member holds, and when the server last heard that it is being worked on. */
interface Held {
  m: JsMsg;
  at: number;
}

export class Member {
  readonly #o: MemberOptions;
  #consumer: Consumer;
  /** Fetched, not yet handed over. */
  readonly #queue: Held[] = [];
  /** Handed over, not yet settled. */
  #held: Held[] = [];
  readonly #beat: NodeJS.Timeout | undefined;
  #fetch: ConsumerMessages | undefined;
  #pulling = false;
  #closing = false;
  #abandoned = false;
  #wake: (() => void) | undefined;
  readonly #closeSignal: Promise<void>;
  #signalClose: () => void = () => undefined;
  readonly done: Promise<void>;

  constructor(consumer: Consumer, options: MemberOptions) {
    this.#consumer = consumer;
    this.#o = options;
    this.#closeSignal = new Promise((r) => (this.#signalClose = r));
    if (options.acks) {
      // The server hands a message to another member when the ack wait runs out: tell it
      // about every message held for a third of that (a slow handler, a long queue).
      const every = Math.max(100, Math.floor(options.ackWaitMs / 3));
      this.#beat = setInterval(() => this.#working(every), every);
      this.#beat.unref();
    }
    this.done = this.#run().finally(() => clearInterval(this.#beat));
  }

  get consumer(): Consumer {
    return this.#consumer;
  }

  /**
   * Stops pulling and waits up to `timeoutMs` for a running handler. Messages fetched but not
   * handed over go back to the server at once; those of a handler still running after the
   * timeout are left unacknowledged and come back after the ack wait.
   */
  async close(timeoutMs: number): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#signalClose();
      this.#wake?.();
      this.#fetch?.stop();
    }
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.done.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!finished && !this.#abandoned) {
      this.#abandoned = true;
      clearInterval(this.#beat);
      this.#o.onError(
        new Error(
          `a handler of ${this.#o.subject} still runs after ${timeoutMs} ms; its messages are left unacknowledged`,
        ),
      );
    }
    for (const h of this.#queue.splice(0)) this.#giveBack(h.m);
  }

  #working(after: number): void {
    if (this.#abandoned) return;
    const now = Date.now();
    for (const h of [...this.#held, ...this.#queue]) {
      if (now - h.at >= after) {
        h.at = now;
        settle(() => h.m.working());
      }
    }
  }

  async #run(): Promise<void> {
    this.#pull();
    while (!this.#closing) {
      if (this.#queue.length === 0) {
        await new Promise<void>((r) => (this.#wake = r));
        this.#wake = undefined;
        continue;
      }
      // Messages of one socket read reach the queue one microtask at a time: let them all
      // arrive before cutting a batch, or a fast handler would only ever see batches of one.
      if (this.#o.batchSize > 1 && this.#queue.length < this.#o.batchSize) {
        await new Promise((r) => setImmediate(r));
        if (this.#closing) break;
      }
      this.#held = this.#queue.splice(0, this.#o.batchSize);
      this.#pull();
      try {
        await this.#handle(this.#held.map((h) => h.m));
      } catch (e) {
        // A bug here, not in the handler (its errors are retries): keep the loop alive.
        this.#o.onError(
          new Error(`handling messages of ${this.#o.subject} failed: ${messageOf(e)}`, { cause: e }),
        );
        for (const h of this.#held) this.#giveBack(h.m);
      }
      this.#held = [];
    }
  }

  /** Starts a pull request when none is out and half the prefetch is free (no trickle of tiny pulls). */
  #pull(): void {
    if (this.#closing || this.#pulling) return;
    const room = this.#o.prefetch - this.#queue.length - this.#held.length;
    if (room <= 0 || room < this.#o.prefetch / 2) return;
    this.#pulling = true;
    void this.#pullOnce(room).finally(() => {
      this.#pulling = false;
      this.#pull();
    });
  }

  async #pullOnce(max: number): Promise<void> {
    const started = Date.now();
    let got = 0;
    try {
      const it = await this.#consumer.fetch({ max_messages: max, expires: this.#o.pullExpiresMs });
      this.#fetch = it;
      if (this.#closing) it.stop();
      for await (const m of it) {
        got++;
        if (this.#closing) this.#giveBack(m);
        else {
          this.#queue.push({ m, at: Date.now() });
          this.#wake?.();
        }
      }
    } catch (e) {
      if (this.#closing) return;
      this.#o.onError(new Error(`pulling from ${this.#o.subject} failed: ${messageOf(e)}`, { cause: e }));
      await this.#sleep(1000);
      // Not at once: nats-server 2.9 removes a deleted stream's files after answering, and a
      // stream made again under the same name meanwhile can lose its new files.
      if (!this.#closing && this.#o.reopen && /not found|deleted/i.test(messageOf(e))) {
        try {
          this.#consumer = await this.#o.reopen();
        } catch (e2) {
          this.#o.onError(
            new Error(`recreating the consumer of ${this.#o.subject} failed: ${messageOf(e2)}`),
          );
        }
      }
      return;
    } finally {
      this.#fetch = undefined;
    }
    // A pull that ends at once with nothing (the server refused it) must not spin.
    if (got === 0 && Date.now() - started < 100) await this.#sleep(100);
  }

  async #handle(batch: JsMsg[]): Promise<void> {
    const { acks, maxAttempts } = this.#o;
    let msgs = batch;
    if (acks) {
      // A member that died while handling them: the server counted the deliveries.
      const spent = msgs.filter((m) => m.info.deliveryCount > maxAttempts);
      for (const m of spent) {
        await this.#toDeadLetter(
          m,
          { ...this.#delivery(m), attempt: m.info.deliveryCount },
          `not acknowledged after ${m.info.deliveryCount - 1} deliveries`,
        );
      }
      if (spent.length > 0) msgs = msgs.filter((m) => !spent.includes(m));
    }
    if (msgs.length === 0) return;
    let deliveries = msgs.map((m) => this.#delivery(m));
    for (;;) {
      try {
        await this.#o.handler(deliveries);
      } catch (e) {
        const reason = messageOf(e);
        const keep: JsMsg[] = [];
        const again: Delivery[] = [];
        for (const [i, m] of msgs.entries()) {
          const d = deliveries[i]!;
          if (d.attempt >= maxAttempts) await this.#toDeadLetter(m, d, reason);
          else {
            keep.push(m);
            again.push({ ...d, attempt: d.attempt + 1 });
          }
        }
        if (keep.length === 0) return;
        msgs = keep;
        deliveries = again;
        if (!this.#closing) await this.#sleep(this.#o.retryDelayMs);
        if (this.#closing) {
          // Another member takes them at once; the attempt count goes on from the server's.
          for (const m of msgs) this.#giveBack(m);
          return;
        }
        continue;
      }
      if (acks) for (const m of msgs) settle(() => m.ack());
      return;
    }
  }

  #delivery(m: JsMsg): Delivery {
    const { key, headers } = decodeHeaders(m.headers);
    const d = m.data;
    return {
      subject: m.subject,
      key,
      // A plain Uint8Array view (the client hands out Buffer slices), no copy.
      data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
      headers,
      attempt: this.#o.acks ? m.info.deliveryCount : 1,
    };
  }

  async #toDeadLetter(m: JsMsg, d: Delivery, reason: string): Promise<void> {
    try {
      await this.#o.deadLetter(d, reason);
      if (this.#o.acks) settle(() => m.term());
    } catch (e) {
      this.#o.onError(
        new Error(`dead-lettering a message of ${this.#o.subject} failed: ${messageOf(e)}`, { cause: e }),
      );
      // Back to the server: it comes again and is dead-lettered then.
      if (this.#o.acks) settle(() => m.nak(this.#o.retryDelayMs));
    }
  }

  #giveBack(m: JsMsg): void {
    if (this.#o.acks) settle(() => m.nak());
  }

  /** Sleeps, or less when the member closes. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), this.#closeSignal]).finally(
      () => clearTimeout(timer),
    );
  }
}
