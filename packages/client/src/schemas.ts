// The shapes of the ledger's HTTP answers (the standalone service's API, see its README).
// Every answer is checked against them: a ledger, or whatever answers in its place, is
// untrusted input.
import { signedReceiptSchema } from '@civic-ledger/receipts';
import { z } from 'zod';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex of 32 bytes');
const base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of 32 bytes');
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const errorBody = z.object({
  code: z.string().min(1),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type ErrorBody = z.infer<typeof errorBody>;

export const submitResponse = z.object({ receipt: signedReceiptSchema, duplicate: z.boolean() });

export const batchResponse = z.object({
  results: z.array(
    z.union([
      z.object({ ok: z.literal(true), receipt: signedReceiptSchema, duplicate: z.boolean() }),
      z.object({ ok: z.literal(false), error: errorBody }),
    ]),
  ),
});

export const entrySchema = z.object({
  index: count,
  leaf: z.string().describe('The exact leaf text (RFC 8785 canonical JSON) the tree commits to'),
  eventHash: hex64,
  leafHash: hex64,
});
export type Entry = z.infer<typeof entrySchema>;

export const entryPageSchema = z.object({
  from: count,
  size: count,
  entries: z.array(entrySchema),
  next: count.nullable(),
});
export type EntryPage = z.infer<typeof entryPageSchema>;

export const inclusionProofSchema = z.object({
  index: count,
  size: count,
  leafHash: hex64,
  hashes: z.array(base64Hash),
});
export type InclusionProof = z.infer<typeof inclusionProofSchema>;

export const consistencyProofSchema = z.object({
  from: count,
  to: count,
  hashes: z.array(base64Hash),
});
export type ConsistencyProof = z.infer<typeof consistencyProofSchema>;

export const chainHeadSchema = z.object({
  emitter: z.string(),
  stream: z.string(),
  seq: z.number().int().positive(),
  eventHash: hex64,
  index: count,
});
export type RemoteChainHead = z.infer<typeof chainHeadSchema>;

/**
 * What verifyInclusion returns and verifyEvidence checks offline, with nothing but the
 * pinned log key: the leaf (which holds the event and its signature), the signed
 * checkpoint and the proof. Keep it as evidence that the event is in the log.
 */
export const inclusionEvidenceSchema = z.object({
  eventHash: hex64,
  index: count,
  leafHash: hex64,
  /** The exact leaf text the tree commits to. */
  leaf: z.string(),
  /** The signed checkpoint note (C2SP tlog-checkpoint) the proof is against. */
  checkpoint: z.string(),
  /** RFC 9162 inclusion proof of `index` in the checkpoint's tree, base64 hashes. */
  proof: z.array(base64Hash),
});
export type InclusionEvidence = z.infer<typeof inclusionEvidenceSchema>;
