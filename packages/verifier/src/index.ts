export {
  checkpointError,
  verifyLog,
  type VerifyCheck,
  type VerifyFailure,
  type VerifyOptions,
  type LogKeyWindow,
  type VerifyResult,
  type VerifierState,
  type VerifiedCheckpointSummary,
} from './verify.ts';
export {
  arraySource,
  sqliteSource,
  storeSource,
  type LogSource,
  type SourceLeaf,
  type WorkerReader,
} from './sources.ts';
export { EventHashSet } from './hash-set.ts';
export {
  httpSource,
  HttpSourceError,
  type HttpSourceErrorCode,
  type HttpSourceOptions,
} from './http-source.ts';
