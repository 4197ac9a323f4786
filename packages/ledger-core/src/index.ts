export {
  Ledger,
  localOwner,
  deadLocalOwner,
  type AppendedEntry,
  type LedgerOptions,
  type Receipt,
  type SubmitOptions,
  type SubmitResult,
} from './ledger.ts';
export { LedgerError, type LedgerErrorCode } from './errors.ts';
export { lineageLinks } from './lineage-links.ts';
export {
  isGenesisKeyEvent,
  Registry,
  registryEffects,
  unregisteredReferences,
  type KeyState,
  type OrgState,
  type ResourceState,
} from './registry.ts';
export { SignaturePool, type SignatureJob, type SignaturePoolOptions } from './signature-pool.ts';
export { Checkpointer, type CheckpointPolicy, type CheckpointSigner } from './checkpoints.ts';
export { rebuildDerived, type RebuildOptions } from './rebuild.ts';
export {
  DEFAULT_WITNESS_INTERVAL_MS,
  DEFAULT_WITNESS_TIMEOUT_MS,
  WitnessCoordinator,
  WitnessingError,
  checkLedgerPolicy,
  describeShortfall,
  quorumShortfall,
  requireCheckpointQuorum,
  witnessedCheckpointDelay,
  type ProofSource,
  type QuorumShortfall,
  type WitnessOutcome,
  type WitnessRound,
  type WitnessState,
  type WitnessingErrorCode,
  type WitnessingOptions,
  type WitnessingStatus,
} from './witnessing.ts';
