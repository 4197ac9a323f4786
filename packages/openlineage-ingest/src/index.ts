export {
  openLineageToDerive,
  toDeriveEvent,
  MAX_OUTPUTS,
  type ConvertOptions,
  type DeriveBody,
  type LatestEventOf,
} from './convert.ts';
export {
  datasetIdOf,
  datasetVersionFacet,
  datasetVersionOf,
  normaliseDatasetName,
  pipelineMapping,
  type PipelineMapping,
} from './mapping.ts';
export {
  validateOpenLineageEvent,
  OPENLINEAGE_SCHEMA_ID,
  type OpenLineageDataset,
  type OpenLineageEventKind,
  type OpenLineageRunEvent,
  type ValidatedOpenLineageEvent,
} from './validate.ts';
export {
  registerOpenLineageIngest,
  MAX_BATCH_EVENTS,
  type IngestSubmitResult,
  type OpenLineageIngestOptions,
} from './routes.ts';
export { OpenLineageIngestError, type IngestIssue, type OpenLineageIngestErrorCode } from './errors.ts';
