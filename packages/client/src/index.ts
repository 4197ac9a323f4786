export {
  LedgerClient,
  MAX_BATCH,
  clientOptionsSchema,
  type LedgerClientOptions,
  type Submitted,
  type SubmitOutcome,
  type InclusionOptions,
  type InclusionVerified,
} from './client.ts';
export { Outbox, type OutboxOptions, type EventOutcome, type FlushSummary } from './outbox.ts';
export type { OutboxRow, OutboxState, OutboxError } from './outbox-store.ts';
export { Emitter, type EmitterOptions, type EventBody, type Emitted } from './emitter.ts';
export { prepareEvent, prepareSigned, type PreparedEvent } from './prepare.ts';
export { verifyEvidence, openPinnedCheckpoint, type LogTrust } from './evidence.ts';
export { LogKeyRing, logKeysSchema, type LogKeyWindow } from './log-keys.ts';
export { backoffDelay, parseRetryAfter, retryOptionsSchema, type RetryOptions } from './retry.ts';
export {
  ClientError,
  isClientError,
  RETRYABLE_CODES,
  type ClientErrorCode,
  type ClientOwnErrorCode,
} from './errors.ts';
export {
  inclusionEvidenceSchema,
  type InclusionEvidence,
  type Entry,
  type EntryPage,
  type InclusionProof,
  type ConsistencyProof,
  type RemoteChainHead,
} from './schemas.ts';
export {
  loadClientPolicy,
  quorumShortfall,
  requirePolicyQuorum,
  type QuorumChecked,
  type QuorumShortfall,
} from './witnesses.ts';
