// The in-process bus of the standalone service: memory only (a message lives as long as the
// process), so it carries notifications, never the only copy of anything. Each subscription
// (a fan-out subscriber or a group) handles its messages one at a time, in publish order.
import {
  deadLetter,
  type BatchHandler,
  type BatchSubscribeOptions,
  type Bus,
  type Delivery,
  type Handler,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from './bus.ts';

export interface MemoryBusOptions {
  /**
   * Messages a subscription may hold unhandled (default 10 000). Beyond it the oldest is
   * dropped and `onOverflow` is told: a stalled notification reader never grows memory.
   */
  maxPending?: number;
  onOverflow?: (subject: string, group: string | undefined) => void;
}

/** A subscriber; a plain handler is a member that takes batches of one. */
interface Member {
  handle: BatchHandler;
  maxMessages: number;
}

interface Queue {
  subject: string;
  group: string | undefined;
  members: Member[];
  next: number;
  maxAttempts: number;
  retryDelayMs: number;
  pending: Omit<Delivery, 'attempt'>[];
  running: Promise<void> | undefined;
  closed: boolean;
}

export class MemoryBus implements Bus {
  readonly #queues = new Map<string, Queue[]>();
  readonly #groups = new Map<string, Queue>();
  readonly #maxPending: number;
  readonly #onOverflow: MemoryBusOptions['onOverflow'];
  #closed = false;

  constructor(options: MemoryBusOptions = {}) {
    this.#maxPending = options.maxPending ?? 10_000;
    this.#onOverflow = options.onOverflow;
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    if (this.#closed) throw new Error('the bus is closed');
    const message = { subject, key: options.key, data, headers: { ...options.headers } };
    for (const q of this.#queues.get(subject) ?? []) {
      if (q.pending.length >= this.#maxPending) {
        q.pending.shift();
        this.#onOverflow?.(subject, q.group);
      }
      q.pending.push(message);
      this.#pump(q);
    }
  }

  async subscribe(subject: string, handler: Handler, options: SubscribeOptions = {}): Promise<Subscription> {
    return this.#join(subject, { handle: (ms) => handler(ms[0]!), maxMessages: 1 }, options.group, {
      maxAttempts: options.maxAttempts ?? 5,
      retryDelayMs: 0,
    });
  }

  async subscribeBatch(
    subject: string,
    handler: BatchHandler,
    options: BatchSubscribeOptions,
  ): Promise<Subscription> {
    return this.#join(
      subject,
      { handle: handler, maxMessages: Math.max(1, options.maxMessages ?? 500) },
      options.group,
      {
        maxAttempts: options.maxAttempts ?? 5,
        retryDelayMs: options.retryDelayMs ?? 100,
      },
    );
  }

  async #join(
    subject: string,
    member: Member,
    group: string | undefined,
    retry: { maxAttempts: number; retryDelayMs: number },
  ): Promise<Subscription> {
    if (this.#closed) throw new Error('the bus is closed');
    let q = group === undefined ? undefined : this.#groups.get(`${subject}\n${group}`);
    if (q === undefined) {
      q = {
        subject,
        group,
        members: [],
        next: 0,
        ...retry,
        pending: [],
        running: undefined,
        closed: false,
      };
      if (group !== undefined) this.#groups.set(`${subject}\n${group}`, q);
      this.#queues.set(subject, [...(this.#queues.get(subject) ?? []), q]);
    }
    const queue = q;
    queue.members.push(member);
    this.#pump(queue);
    return {
      close: async () => {
        queue.members = queue.members.filter((m) => m !== member);
        // A group keeps its messages for a later member (as a durable consumer would).
        if (queue.members.length === 0 && queue.group === undefined) this.#drop(queue);
        await queue.running;
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#queues.values()].flat();
    for (const q of all) this.#drop(q);
    await Promise.all(all.map((q) => q.running));
  }

  #drop(q: Queue): void {
    q.closed = true;
    q.pending.length = 0;
    const rest = (this.#queues.get(q.subject) ?? []).filter((x) => x !== q);
    if (rest.length > 0) this.#queues.set(q.subject, rest);
    else this.#queues.delete(q.subject);
    if (q.group !== undefined) this.#groups.delete(`${q.subject}\n${q.group}`);
  }

  #pump(q: Queue): void {
    if (q.running || q.closed || q.members.length === 0 || q.pending.length === 0) return;
    q.running = (async () => {
      while (!q.closed && q.members.length > 0 && q.pending.length > 0) {
        let member = q.members[q.next++ % q.members.length]!;
        // Taken out before handling: `pending` holds only messages still waiting.
        const batch = q.pending.splice(0, member.maxMessages);
        for (let attempt = 1; ; attempt++) {
          try {
            await member.handle(batch.map((m) => ({ ...m, attempt })));
            break;
          } catch (e) {
            if (attempt >= q.maxAttempts) {
              const reason = (e as Error).message ?? String(e);
              for (const m of batch) await deadLetter(this, { ...m, attempt }, reason).catch(() => undefined);
              break;
            }
            if (q.retryDelayMs > 0) await new Promise((r) => setTimeout(r, q.retryDelayMs));
            const next = q.members[q.next++ % q.members.length];
            if (q.closed || next === undefined) {
              q.pending.unshift(...batch); // every member left: keep them for the next one
              return;
            }
            member = next;
          }
        }
      }
    })().finally(() => {
      q.running = undefined;
      this.#pump(q);
    });
  }
}
