// Publishes through one idempotent kafkajs producer, one produce request at a time: what
// callers publish while a request is in flight goes into the next one (group commit). That
// keeps publish order per key even when kafkajs retries, and a burst of publishes costs a few
// requests instead of one round trip each.
import kafkajs, { type Admin, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { KafkaBusError, kafkaErrorType, messageOf } from './errors.ts';

// kafkajs is CommonJS: Node's ESM loader finds only some of its exports by name.
const { ConfigResourceTypes } = kafkajs;

interface Pending {
  topic: string;
  message: Message;
  bytes: number;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface PublisherOptions {
  /** Bytes of message values per produce request at most (a larger message goes alone). */
  maxBatchBytes: number;
  /** Messages per produce request at most. */
  maxBatchMessages: number;
  /** A publish not acknowledged by then rejects with PUBLISH_TIMEOUT. */
  timeoutMs: number;
}

export class Publisher {
  readonly #producer: Producer;
  readonly #admin: Admin;
  readonly #options: PublisherOptions;
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;

  constructor(producer: Producer, admin: Admin, options: PublisherOptions) {
    this.#producer = producer;
    this.#admin = admin;
    this.#options = options;
  }

  publish(topic: string, message: Message, bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const p: Pending = { topic, message, bytes, settled: false, timer: undefined, resolve, reject };
      p.timer = setTimeout(() => {
        // Still queued: it is never sent. Already sent: the broker may still write it.
        const queued = this.#queue.indexOf(p);
        if (queued >= 0) this.#queue.splice(queued, 1);
        settle(
          p,
          new KafkaBusError(
            'PUBLISH_TIMEOUT',
            `no acknowledgement for a message to ${topic} within ${this.#options.timeoutMs} ms` +
              (queued >= 0 ? ' (it was not sent)' : ' (it may still be written)'),
          ),
        );
      }, this.#options.timeoutMs);
      this.#queue.push(p);
      this.#kick();
    });
  }

  /** Resolves once every publish made so far is settled. */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #kick(): void {
    if (this.#running || this.#queue.length === 0) return;
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      this.#kick();
    });
  }

  async #run(): Promise<void> {
    // Let the publishes of the current burst queue up before the first request.
    await new Promise((r) => setImmediate(r));
    while (this.#queue.length > 0) {
      const batch = this.#take();
      await this.#send(batch);
    }
  }

  #take(): Pending[] {
    const { maxBatchBytes, maxBatchMessages } = this.#options;
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && n < maxBatchMessages) {
      const b = this.#queue[n]!.bytes;
      if (n > 0 && bytes + b > maxBatchBytes) break;
      bytes += b;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #send(batch: Pending[]): Promise<void> {
    const live = batch.filter((p) => !p.settled);
    if (live.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const p of live) {
      let list = byTopic.get(p.topic);
      if (!list) byTopic.set(p.topic, (list = []));
      list.push(p.message);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    try {
      await this.#producer.sendBatch({ acks: -1, topicMessages });
      for (const p of live) settle(p);
    } catch (e) {
      if (kafkaErrorType(e) === 'MESSAGE_TOO_LARGE' && live.length > 1) {
        // One of them is over the topic's limit: send each alone so only that one fails.
        for (const p of live) await this.#send([p]);
        return;
      }
      const error = await this.#explain(e, live);
      for (const p of live) settle(p, error);
    }
  }

  async #explain(e: unknown, batch: Pending[]): Promise<KafkaBusError> {
    const first = batch[0]!;
    if (kafkaErrorType(e) === 'MESSAGE_TOO_LARGE') {
      const limit = await this.#limit(first.topic);
      return new KafkaBusError(
        'MESSAGE_TOO_LARGE',
        `the broker refused a message of ${first.bytes} bytes to ${first.topic}: larger than its limit` +
          (limit ? ` of ${limit} bytes (topic config max.message.bytes, including record overhead)` : ''),
        { cause: e },
      );
    }
    const what = batch.length === 1 ? `a message to ${first.topic}` : `${batch.length} messages`;
    return new KafkaBusError('PUBLISH_FAILED', `the broker did not take ${what}: ${messageOf(e)}`, {
      cause: e,
    });
  }

  async #limit(topic: string): Promise<string | undefined> {
    try {
      const { resources } = await this.#admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
      });
      return resources[0]?.configEntries.find((c) => c.configName === 'max.message.bytes')?.configValue;
    } catch {
      return undefined;
    }
  }
}

function settle(p: Pending, error?: Error): void {
  if (p.settled) return;
  p.settled = true;
  clearTimeout(p.timer);
  if (error) p.reject(error);
  else p.resolve();
}
