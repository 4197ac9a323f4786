export { MerkleError, isMerkleError, type MerkleErrorCode } from './errors.ts';
export { HASH_SIZE, emptyRoot, hashLeaf, hashChildren } from './hash.ts';
export {
  MAX_TREE_SIZE,
  nodeId,
  nodeLevel,
  nodeIndex,
  nodeCoverage,
  borderNodeIds,
  type NodeId,
} from './node-id.ts';
export { CompactRange, newNodeBatch, type NodeBatch } from './compact-range.ts';
export { planInclusion, planConsistency, assembleProof, type ProofPlan } from './plan.ts';
export {
  inclusionProof,
  consistencyProof,
  rootAt,
  loadCompactRange,
  inclusionProofSync,
  consistencyProofSync,
  rootAtSync,
  loadCompactRangeSync,
  asyncReader,
  readNodes,
  readNodesSync,
  type NodeReader,
  type SyncNodeReader,
} from './store.ts';
export { MemoryNodeStore } from './memory-store.ts';
export {
  rootFromInclusionProof,
  verifyInclusion,
  rootFromConsistencyProof,
  verifyConsistency,
  isValidInclusion,
  isValidConsistency,
} from './verify.ts';
