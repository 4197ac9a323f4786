export { loadWitnessConfig, witnessEnvSchema, type WitnessServiceConfig } from './config.ts';
export { WitnessMetrics } from './metrics.ts';
export {
  REDACT_PATHS,
  buildWitnessApp,
  startWitness,
  type RunningWitness,
  type StartWitnessConfig,
  type StartWitnessOptions,
  type WitnessApp,
  type WitnessAppDeps,
} from './server.ts';
