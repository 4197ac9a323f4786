// The storage contract of the ledger. Designed for stores without multi-document
// transactions (MongoDB, FerretDB): a batch writes its rows first, then advances one head
// record (tree size, root, writer epoch) by compare-and-set. Every read is bounded by the
// head, so rows a crashed writer left beyond it are invisible; the next writer deletes
// them when it acquires the lease. After any crash either the whole batch is visible or
// none of it.
import type { NodeId } from '@civic-ledger/merkle';

/** The committed state: everything at ledger index < size is visible. */
export interface LedgerHead {
  size: number;
  /** RFC 9162 root of the first `size` leaves (the empty-tree root for 0). */
  rootHash: Uint8Array;
  /** Fencing token of the writer that committed last (0 before any writer). */
  epoch: number;
}

/** One log entry as stored. `leaf` is the exact canonical leaf bytes the tree commits to. */
export interface LeafRecord {
  index: number;
  leaf: Uint8Array;
  /** Lower-case hex event hash (derivable from `leaf`; stored for lookups). */
  eventHash: string;
  /** Chain key `emitter/stream` and position in it (derivable from `leaf`). */
  chain: string;
  seq: number;
}

/** A registry fact derived from a leaf: who and what exists, which keys are in force. */
export interface RegistryRecord {
  /** Ledger index of the event that established it. */
  index: number;
  kind: 'organization' | 'source' | 'dataset' | 'key-add' | 'key-revoke' | 'key-recover' | 'purpose';
  /** Organization id, resource id or key name. */
  id: string;
  /** Owning organization. */
  org: string;
  /** Kind-specific facts as canonical JSON (role, public key text, compromise time...). */
  data: string;
}

/** A lineage link derived from a leaf: the event at `index` names `input` among its inputs. */
export interface LineageLink {
  index: number;
  /** Lower-case hex event hash of the input. */
  input: string;
}

export interface CheckpointRecord {
  size: number;
  /** The signed note text (C2SP tlog-checkpoint). */
  note: string;
  /** When the ledger signed it (ms since epoch). */
  createdAt: number;
}

/** Rows one batch appends; indexes are consecutive from the head's size. */
export interface AppendBatch {
  leaves: LeafRecord[];
  /** New perfect-subtree nodes (level 0 = leaf hashes), as CompactRange.append produces them. */
  nodes: { ids: NodeId[]; hashes: Uint8Array[] };
  registry: RegistryRecord[];
  /** Every input of every movement in the batch, for downstream lineage lookups. */
  lineage: LineageLink[];
  /** Root after the batch. */
  rootHash: Uint8Array;
}

/** Proof that this process is the current writer; stale leases are refused. */
export interface WriterLease {
  epoch: number;
  owner: string;
  expiresAt: number;
}

export interface AcquireOptions {
  /** Who is asking (a process id, host name...); shown to others waiting. */
  owner: string;
  /** Lease length; another owner can take over only after it lapses. */
  ttlMs: number;
  /** Clock for lease expiry (default Date.now). */
  now?: number;
  /**
   * Says whether the current holder is known to be gone (e.g. a crashed process on this
   * host), so its lease can be taken before it lapses. Evaluated within the take-over.
   */
  holderIsGone?: (owner: string) => boolean;
}

/** A chain position: the event at `seq` of a chain. */
export interface ChainEntry {
  seq: number;
  eventHash: string;
  index: number;
}

export interface LedgerStore {
  /** The committed head. */
  head(): Promise<LedgerHead>;

  /**
   * Becomes the writer: bumps the epoch by compare-and-set (fencing every earlier writer),
   * then deletes rows beyond the head that a crashed writer may have left. Refused with
   * LEASE_HELD while another owner's lease has not lapsed.
   */
  acquireWriter(options: AcquireOptions): Promise<WriterLease>;
  /** Extends the lease; refused with STALE_WRITER if another writer took over. */
  renewWriter(lease: WriterLease, options: AcquireOptions): Promise<WriterLease>;
  /** Gives the lease up (graceful shutdown), so another owner may take over at once. No-op if fenced. */
  releaseWriter(lease: WriterLease): Promise<void>;

  /**
   * Appends a batch at `expectedSize` under `lease`. Rows first, then the head by
   * compare-and-set on (size, epoch). STALE_WRITER when another writer has taken over,
   * SIZE_CONFLICT when the head moved. On any failure nothing becomes visible.
   */
  append(lease: WriterLease, expectedSize: number, batch: AppendBatch): Promise<LedgerHead>;

  /** Entries with from <= index < to (clamped to the head), in index order. */
  getLeaves(from: number, to: number): Promise<LeafRecord[]>;
  /** The visible entries with these event hashes (any order; absent ones omitted). */
  getLeavesByEventHash(hashes: readonly string[]): Promise<LeafRecord[]>;
  /**
   * The visible entries that name any of these event hashes among their inputs (their
   * lineage children), in index order. Upstream needs no such lookup: a leaf holds its inputs.
   */
  getLeavesByInput(hashes: readonly string[]): Promise<LeafRecord[]>;
  /** The event at a chain position, if visible. */
  getChainEntry(chain: string, seq: number): Promise<ChainEntry | undefined>;
  /** The last visible event of a chain. */
  getChainHead(chain: string): Promise<ChainEntry | undefined>;
  /** Stored node hashes (a merkle NodeReader); nodes not wholly below the head are absent. */
  getNodes(ids: readonly NodeId[]): Promise<Array<Uint8Array | undefined>>;
  /** Registry records in index order (all, or those of one id). */
  getRegistry(id?: string): Promise<RegistryRecord[]>;

  /** Stores a signed checkpoint (idempotent for the same size and note). */
  putCheckpoint(checkpoint: CheckpointRecord): Promise<void>;
  getCheckpoint(size: number): Promise<CheckpointRecord | undefined>;
  latestCheckpoint(): Promise<CheckpointRecord | undefined>;
  /** Checkpoints with from <= size <= to, ascending. */
  listCheckpoints(from: number, to: number): Promise<CheckpointRecord[]>;

  /**
   * Drops every derived row (nodes, chain, hash and lineage indexes, registry), keeping leaves,
   * checkpoints and the head: rebuild then replays the leaves. For repair and its test.
   */
  dropDerived(lease: WriterLease): Promise<void>;
  /** Writes derived rows for existing leaves (after dropDerived), without moving the head. */
  writeDerived(lease: WriterLease, batch: AppendBatch): Promise<void>;

  close(): Promise<void>;
}
