export {
  type ChainHead,
  type ChainLink,
  type ChainOutcome,
  type ChainOutcomeKind,
  EMPTY_HEAD,
  checkLink,
  chainKey,
  ChainBatch,
  findChainBreak,
} from './chain.ts';
