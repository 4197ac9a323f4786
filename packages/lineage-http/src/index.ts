export { registerLineageRoutes, toTraceQuery, checkpointFor, type LineageRoutesOptions } from './routes.ts';
export { LineageFollower, type FollowerOptions } from './follower.ts';
export {
  toMarquezGraph,
  datasetIdOfNode,
  datasetNodeId,
  splitDatasetId,
  type MarquezNode,
  type MarquezEdge,
} from './marquez.ts';
export { LineageHttpError, fromLineageError, paramOf, type LineageHttpErrorCode } from './errors.ts';
export { MAX_HTTP_DEPTH, MAX_HTTP_PAGE } from './schemas.ts';
