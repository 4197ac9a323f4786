// What the sequencer's integration tests share: the real servers (undefined locally when one
// is missing; findService fails under CI), a poll helper, submissions through Kafka as an
// agency's system would send them, and the environment of a sequencer for one test's log.
import { KafkaBus } from '@civic-ledger/bus-kafka';
import { decodeSubmission } from '@civic-ledger/events';
import type { TestSubmission } from '@civic-ledger/ledger-core/testing';
import type { CheckpointRecord, LedgerStore } from '@civic-ledger/storage';
import { pipelineSubjects, submissionMessage } from '@civic-ledger/pipeline';
import { findService } from '@civic-ledger/test-services';

export const [mongodb, kafka, nats] = await Promise.all([
  findService('mongodb'),
  findService('kafka'),
  findService('nats'),
]);

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Until the store holds a checkpoint covering `size` (the sequencer stores them). */
export const storedCheckpointCovering = (store: LedgerStore, size: number): Promise<CheckpointRecord> =>
  waitFor(`a stored checkpoint of size ${size}`, async () => {
    const c = await store.latestCheckpoint();
    return c !== undefined && c.size >= size ? c : undefined;
  });

/** Publishes signed events to the namespace's submissions topic, one at a time, in order. */
export async function kafkaSubmitter(
  namespace: string,
  clientId: string,
): Promise<{ submit(events: readonly TestSubmission[]): Promise<void>; close(): Promise<void> }> {
  const producer = await KafkaBus.connect({ brokers: kafka!.split(','), clientId });
  const subjects = pipelineSubjects(namespace);
  return {
    // One at a time: the operator's chain is one partition key, and order is the test's.
    async submit(events) {
      for (const e of events) {
        const m = submissionMessage(decodeSubmission(e), 'kafka');
        await producer.publish(subjects.submissions, m.data, {
          key: m.key,
          partitionKey: m.partitionKey,
          headers: m.headers,
        });
      }
    },
    close: () => producer.close(),
  };
}

/** A sequencer's environment on the real servers for one test's database and namespace. */
export function sequencerEnv(log: {
  database: string;
  namespace: string;
  origin: string;
  operatorKey: string;
}): Record<string, string | undefined> {
  return {
    CIVIC_LEDGER_MONGODB_URL: mongodb,
    CIVIC_LEDGER_MONGODB_DATABASE: log.database,
    CIVIC_LEDGER_KAFKA_BROKERS: kafka,
    CIVIC_LEDGER_NATS_URL: nats,
    CIVIC_LEDGER_NAMESPACE: log.namespace,
    CIVIC_LEDGER_ORIGIN: log.origin,
    CIVIC_LEDGER_OPERATOR_KEY: log.operatorKey,
    CIVIC_LEDGER_KAFKA_SESSION_TIMEOUT_MS: '6000',
    CIVIC_LEDGER_PORT: '0',
  };
}
