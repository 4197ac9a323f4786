// Signed receipts: what the log promises an emitter for an appended event. The signature is
// the log key's Ed25519 signature over the 'receipt' context and the SHA-256 of the RFC 8785
// canonical JSON of the receipt without its `signature` member (see README.md).
import { canonicalizeToBytes } from '@civic-ledger/canonical-json';
import {
  fromBase64,
  sha256,
  signDigest,
  toBase64,
  verifyDigest,
  type SigningKey,
  type VerifierKey,
} from '@civic-ledger/crypto';
import { z } from 'zod';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex of 32 bytes');

export const unsignedReceiptSchema = z.object({
  index: z.number().int().nonnegative().describe('Ledger index of the entry'),
  eventHash: hex64.describe('SHA-256 of the canonical event (hex)'),
  leafHash: hex64.describe('RFC 9162 leaf hash of the entry (hex)'),
  admitted: z.string().describe('Admission time, RFC 3339 UTC with milliseconds'),
  logOrigin: z.string().describe('The log identity (checkpoint origin line)'),
  checkpointWithinMs: z
    .number()
    .int()
    .positive()
    .describe('A signed checkpoint covering the entry is published within this many ms'),
});
export type UnsignedReceipt = z.infer<typeof unsignedReceiptSchema>;

export const signedReceiptSchema = unsignedReceiptSchema.extend({
  signature: z
    .string()
    .describe(
      "Base64 Ed25519 signature of the log key over the 'receipt' context and SHA-256 of the canonical unsigned receipt",
    ),
});
export type SignedReceipt = z.infer<typeof signedReceiptSchema>;

/** SHA-256 of the RFC 8785 canonical JSON of the unsigned receipt: what the log signs. */
export function receiptDigest(receipt: UnsignedReceipt): Uint8Array {
  const { index, eventHash, leafHash, admitted, logOrigin, checkpointWithinMs } = receipt;
  return sha256(canonicalizeToBytes({ index, eventHash, leafHash, admitted, logOrigin, checkpointWithinMs }));
}

export function signReceipt(
  key: SigningKey,
  receipt: { index: number; eventHash: string; leafHash: string; admitted: string },
  log: { origin: string; checkpointWithinMs: number },
): SignedReceipt {
  const unsigned: UnsignedReceipt = {
    index: receipt.index,
    eventHash: receipt.eventHash,
    leafHash: receipt.leafHash,
    admitted: receipt.admitted,
    logOrigin: log.origin,
    checkpointWithinMs: log.checkpointWithinMs,
  };
  return { ...unsigned, signature: toBase64(signDigest(key, 'receipt', receiptDigest(unsigned))) };
}

/** True when `receipt.signature` is the log key's receipt signature. Never throws on bad input. */
export function verifyReceipt(key: VerifierKey, receipt: SignedReceipt): boolean {
  let signature: Uint8Array;
  try {
    signature = fromBase64(receipt.signature);
  } catch {
    return false;
  }
  return verifyDigest(key, 'receipt', receiptDigest(receipt), signature);
}
