export {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  MANIFEST_FILE,
  ENTRIES_FILE,
  CHECKPOINTS_FILE,
  PROOFS_FILE,
  REVOCATIONS_KNOWN,
  manifestSchema,
  type BundleCheck,
  type BundleOnlyCheck,
  type BundleManifest,
  type FullManifest,
  type PartialManifest,
} from './format.ts';
export { BundleError, type BundleErrorCode } from './errors.ts';
export {
  writeFullBundle,
  writePartialBundle,
  type BundleWriteOptions,
  type FullBundleOptions,
  type PartialBundleOptions,
} from './write.ts';
export {
  storeProofProvider,
  httpProofProvider,
  type ProofProvider,
  type ProofStore,
  type RegistryHit,
  type RegistryKind,
  type HttpProviderOptions,
} from './providers.ts';
export { bundleSource, type BundleSource } from './source.ts';
export {
  verifyBundle,
  type VerifyBundleOptions,
  type BundleResult,
  type BundleFailure,
  type FullBundleResult,
  type PartialBundleResult,
  type ProvenKey,
} from './verify.ts';
