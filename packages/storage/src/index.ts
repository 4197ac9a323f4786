export type {
  LedgerHead,
  LeafRecord,
  RegistryRecord,
  LineageLink,
  CheckpointRecord,
  AppendBatch,
  WriterLease,
  AcquireOptions,
  ChainEntry,
  LedgerStore,
} from './types.ts';
export { SqliteStore, type SqliteStoreOptions } from './sqlite.ts';
export { SqliteLeafReader, type LeafRow, type StoredLeafRow } from './sqlite-reader.ts';
export { MemoryStore, type MemoryStoreOptions } from './memory.ts';
export { StorageError, type StorageErrorCode } from './errors.ts';
export { hashKey, nodeWithin } from './batch.ts';
