export {
  LEAF_VERSION,
  type LeafFields,
  type DecodedLeaf,
  type LeafErrorCode,
  LeafError,
  encodeLeaf,
  encodeLeafText,
  encodeLeafAfter,
  decodeLeaf,
} from './leaf.ts';
