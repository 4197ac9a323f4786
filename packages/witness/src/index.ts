export { WitnessError, isWitnessError, REFUSAL_STATUS } from './errors.ts';
export type { RefusalCode, WitnessErrorCode } from './errors.ts';
export {
  COSIGNATURE_V1_BYTES,
  COSIGNATURE_V1_TYPE,
  cosign,
  cosignatureMessage,
  cosignatureVerifier,
  cosignerFromKey,
  formatCosignature,
  formatCosignatureVerifierKey,
  parseCosignature,
  parseCosignatureVerifierKey,
  verifyCosignature,
} from './cosignature.ts';
export type { Cosignature, CosignatureVerifier, Cosigner } from './cosignature.ts';
export {
  POLICY_LIMITS,
  QUORUM_NONE,
  checkQuorum,
  evaluateQuorum,
  formatPolicy,
  parsePolicy,
  requireQuorum,
} from './policy.ts';
export type {
  CheckQuorumOptions,
  ParsePolicyOptions,
  Policy,
  PolicyGroup,
  PolicyLog,
  PolicyWitness,
  QuorumResult,
} from './policy.ts';
export {
  DEFAULT_MAX_REQUEST_BYTES,
  MAX_PROOF_LINES,
  TREE_SIZE_CONTENT_TYPE,
  formatAddCheckpointRequest,
  formatSignatureLines,
  parseAddCheckpointRequest,
  parseSignatureLines,
  parseTreeSizeBody,
} from './request.ts';
export type { AddCheckpointRequest } from './request.ts';
export { WitnessStore } from './store.ts';
export type { Alarm, AlarmKind, CheckpointEvidence, WitnessState } from './store.ts';
export { Witness, knownLogsFromPolicy } from './witness.ts';
export type {
  AddCheckpointRefusal,
  AddCheckpointResult,
  AddCheckpointSuccess,
  KnownLog,
  WitnessHooks,
  WitnessOptions,
} from './witness.ts';
export { DEFAULT_WITNESS_TIMEOUT_MS, addSignatures, requestCosignature } from './client.ts';
export type { CosignatureResponse, RequestCosignatureOptions } from './client.ts';
export { MemoryLog } from './memory-log.ts';
export { describeShortfall, quorumShortfall, type QuorumShortfall } from './shortfall.ts';
