export { loadSequencerConfig, sequencerEnvSchema, type SequencerConfig } from './config.ts';
export { startSequencer, type RunningSequencer } from './server.ts';
export { sequencerWitnessStatusSchema, type SequencerWitnessStatus } from './witnesses.ts';
