export {
  LineageIndex,
  type AddOptions,
  type AppendedEvent,
  type BuildOptions,
  type LeafSource,
} from './lineage-index.ts';
export {
  trace,
  type TraceResult,
  type LineageNode,
  type LineageEdge,
  type Incompleteness,
  type IncompleteReason,
} from './trace.ts';
export {
  traceInStore,
  storeTraceQuerySchema,
  type LineageStore,
  type StoreLineageNode,
  type StoreTraceQuery,
  type StoreTraceResult,
  type StoreTraceOptions,
} from './store-trace.ts';
export { footprint, type FootprintResult, type FootprintOrganization } from './footprint.ts';
export { flows, type Flow, type FlowsResult } from './flows.ts';
export {
  traceQuerySchema,
  footprintOptionsSchema,
  flowsQuerySchema,
  MAX_DEPTH,
  MAX_PAGE,
  DEFAULT_PAGE,
  DEFAULT_DEPTH,
  type TraceQuery,
  type TraceFilters,
  type Start,
  type FootprintOptions,
  type FlowsQuery,
} from './query.ts';
export { LineageError, type LineageErrorCode, type QueryIssue } from './errors.ts';
