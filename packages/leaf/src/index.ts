export {
  LEAF_VERSION,
  type LeafFields,
  type DecodedLeaf,
  type LeafErrorCode,
  LeafError,
  encodeLeaf,
  encodeLeafText,
  decodeLeaf,
} from './leaf.ts';
