export {
  decodeOutcome,
  decodeSubmissionMessage,
  encodeOutcome,
  outcomeSchema,
  PIPELINE_SUBJECTS,
  pipelineSubjects,
  type PipelineSubjects,
  submissionMessage,
  type Outcome,
  type SubmissionMessage,
  type SubmittedVia,
} from './messages.ts';
export { SequencerCore, TRANSIENT_CODES, WAITABLE_CODES, type SequencerCoreOptions } from './sequencer.ts';
export { IngestGateway, type IngestGatewayOptions } from './gateway.ts';
export {
  SequencerNode,
  type SequencerNodeLog,
  type SequencerNodeOptions,
  type SequencerRole,
} from './node.ts';
