// What travels on the buses between ingest, the sequencer and whoever waits for an outcome.
// A submission message is one signed event: `{"event":<canonical event>,"signature":"..."}`,
// where the event text is exactly the RFC 8785 bytes the signature covers, keyed by its chain
// so a chain stays in one partition and in order. An agency's own producer may send any JSON
// of the same wire form: the sequencer validates every message with the HTTP body's schemas.
import { namespacedSubjects, type Delivery } from '@civic-ledger/bus';
import { chainKey } from '@civic-ledger/chain';
import { toBase64 } from '@civic-ledger/crypto';
import { decodeSubmission, type DecodedEvent } from '@civic-ledger/events';
import { signedReceiptSchema } from '@civic-ledger/receipts';
import type { ValidateOptions } from '@civic-ledger/schemas';
import { z } from 'zod';

export interface PipelineSubjects {
  /** Kafka: submissions from ingest and from agencies' own producers. */
  submissions: string;
  /** NATS JetStream: submissions from edge devices. */
  edgeSubmissions: string;
  /** NATS: one outcome per handled submission (signed receipt or error), for whoever waits. */
  outcomes: string;
  /** NATS: appended entries and signed checkpoints (after the commit). */
  appended: string;
  checkpoint: string;
}

/** The subjects of one log; a namespace lets several logs or test runs share the brokers. */
export function pipelineSubjects(namespace?: string): PipelineSubjects {
  const base = namespacedSubjects(namespace);
  const p = namespace ? `${namespace}.` : '';
  return {
    submissions: base.submissions,
    edgeSubmissions: `${p}civic-ledger.edge.submissions`,
    outcomes: `${p}civic-ledger.outcomes`,
    appended: base.appended,
    checkpoint: base.checkpoint,
  };
}

export const PIPELINE_SUBJECTS: Readonly<PipelineSubjects> = pipelineSubjects();

export type SubmittedVia = 'http' | 'kafka' | 'nats';

export interface SubmissionMessage {
  data: Uint8Array;
  /** The chain, `emitter/stream`: each chain stays in order. */
  key: string;
  /** The organization: its chains share a partition, so inputs across its streams arrive in order. */
  partitionKey: string;
  headers: Record<string, string>;
}

const encoder = new TextEncoder();

/** The message for one decoded event: its signed bytes verbatim, keyed by chain. */
export function submissionMessage(d: DecodedEvent, via: SubmittedVia, now = Date.now()): SubmissionMessage {
  return {
    data: encoder.encode(`{"event":${d.canonical},"signature":"${toBase64(d.signature)}"}`),
    key: chainKey(d.event.emitter, d.event.stream),
    partitionKey: d.event.emitter,
    headers: { 'event-hash': d.hash, 'submitted-via': via, 'submitted-at': new Date(now).toISOString() },
  };
}

/** Decodes and validates a submission message exactly as the HTTP body is (throws SchemaError). */
export function decodeSubmissionMessage(m: Pick<Delivery, 'data'>, options?: ValidateOptions): DecodedEvent {
  return decodeSubmission(m.data, options);
}

const errorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).default({}),
});

/** The sequencer's answer to one submission. */
export const outcomeSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    eventHash: z.string(),
    receipt: signedReceiptSchema,
    duplicate: z.boolean(),
  }),
  z.object({ ok: z.literal(false), eventHash: z.string(), error: errorBody }),
]);
export type Outcome = z.infer<typeof outcomeSchema>;

export function encodeOutcome(o: Outcome): Uint8Array {
  return encoder.encode(JSON.stringify(o));
}

/** Parses an outcome message; undefined for anything malformed (outcomes are advisory). */
export function decodeOutcome(data: Uint8Array): Outcome | undefined {
  try {
    const r = outcomeSchema.safeParse(JSON.parse(new TextDecoder().decode(data)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
