// Request and response schemas of every route (zod): fastify validates and serializes with
// them, and the OpenAPI document at /docs/json is generated from them.
import { signedEventWire } from '@civic-ledger/events';
import { z } from 'zod';
import { signedReceiptSchema } from '@civic-ledger/receipts';

export const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex of 32 bytes');
const index = z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const errorBody = z
  .object({
    code: z.string().describe('Stable error code (see README: error contract)'),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).describe('Field paths and rules, expected seq/prev, ...'),
  })
  .describe('Error');

/** Every route answers errors in the same shape. */
export const errorResponses = { '4xx': errorBody, '5xx': errorBody } as const;

export const submitBody = signedEventWire.describe(
  'One signed event in wire form: the event and base64 of its Ed25519 signature',
);
export const submitResponse = z.object({ receipt: signedReceiptSchema, duplicate: z.boolean() });

export const MAX_BATCH_EVENTS = 1000;
export const batchBody = z.strictObject({
  events: z
    .array(z.record(z.string(), z.unknown()).describe('A signed event in wire form { event, signature }'))
    .min(1)
    .max(MAX_BATCH_EVENTS),
  atomic: z.boolean().optional().describe('Append every event or none (the others fail with BATCH_REFUSED)'),
});
export const batchResult = z.union([
  z.object({ ok: z.literal(true), receipt: signedReceiptSchema, duplicate: z.boolean() }),
  z.object({ ok: z.literal(false), error: errorBody }),
]);
export const batchResponse = z.object({ results: z.array(batchResult) });

export const entry = z.object({
  index: z.number().int().nonnegative(),
  leaf: z.string().describe('The exact leaf text (RFC 8785 canonical JSON) the tree commits to'),
  eventHash: hex64,
  leafHash: hex64.describe('RFC 9162 leaf hash: SHA-256(0x00 || leaf)'),
});
export const entryPage = z.object({
  from: z.number().int().nonnegative(),
  size: z.number().int().nonnegative().describe('Tree size when the page was read'),
  entries: z.array(entry),
  next: z.number().int().nonnegative().nullable().describe('`from` of the next page, null at the end'),
});

export const hashParams = z.object({ hash: hex64 });
export const indexParams = z.object({ index });
export const sizeParams = z.object({ size: index });
export const entriesQuery = z.object({
  from: index.default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const checkpointJson = z.object({
  origin: z.string(),
  size: z.number().int().nonnegative(),
  rootHash: z.string().describe('Base64 of the 32-byte root hash'),
  note: z.string().describe('The signed note (C2SP tlog-checkpoint)'),
});
export const noteText = z.string().describe('C2SP tlog-checkpoint signed note (text/plain)');
export const checkpointsQuery = z.object({
  from: index.default(0).describe('Smallest tree size to list'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const checkpointPage = z.object({
  checkpoints: z
    .array(
      z.object({
        size: z.number().int().nonnegative(),
        note: z.string().describe('The signed note (C2SP tlog-checkpoint)'),
      }),
    )
    .describe('Signed checkpoints ascending by tree size, at most `limit`'),
  next: z
    .number()
    .int()
    .nonnegative()
    .nullable()
    .describe('`from` of the next page (the size of the next checkpoint), null at the end'),
});

export const inclusionQuery = z.object({
  hash: hex64.optional().describe('Event hash (give hash or index)'),
  index: index.optional().describe('Ledger index (give hash or index)'),
  size: index.optional().describe('Tree size to prove against (default: the current size)'),
});
export const inclusionResponse = z.object({
  index: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  leafHash: hex64,
  hashes: z.array(z.string()).describe('RFC 9162 inclusion proof, base64 hashes'),
});
export const consistencyQuery = z.object({
  from: index.describe('Smaller tree size (> 0)'),
  to: index.optional().describe('Larger tree size (default: the current size)'),
});
export const consistencyResponse = z.object({
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(),
  hashes: z.array(z.string()).describe('RFC 9162 consistency proof, base64 hashes'),
});

export const chainParams = z.object({ emitter: z.string().min(1), stream: z.string().min(1) });
export const chainHead = z.object({
  emitter: z.string(),
  stream: z.string(),
  seq: z.number().int().positive(),
  eventHash: hex64,
  index: z.number().int().nonnegative(),
});

export const health = z.object({ status: z.string() });
export const ready = z.object({
  status: z.string(),
  size: z.number().int().nonnegative().optional(),
  /** Each dependency and its state (services with several: ingest, sequencer). */
  dependencies: z.record(z.string(), z.string()).optional(),
});
