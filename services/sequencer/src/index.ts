export { loadSequencerConfig, sequencerEnvSchema, type SequencerConfig } from './config.ts';
export { startSequencer, type RunningSequencer } from './server.ts';
