// Where a partial export gets what the leaves alone do not give cheaply: a signed
// checkpoint, inclusion proofs against it, the index of an event hash, and (optionally)
// where the registry events about a key or organization are. Two implementations: a
// ledger store (SqliteStore, MemoryStore) and the standalone service's HTTP API. What a
// provider returns is untrusted like everything else: the bundle's verifier checks it.
import { fromBase64 } from '@civic-ledger/crypto';
import { inclusionProof, type NodeId } from '@civic-ledger/merkle';
import { z } from 'zod';
import { BundleError } from './errors.ts';

export type RegistryKind =
  'organization' | 'source' | 'dataset' | 'key-add' | 'key-revoke' | 'key-recover' | 'purpose';

/** A registry event about an id: what it did, and the ledger index of the event. */
export interface RegistryHit {
  kind: RegistryKind;
  index: number;
}

export interface ProofProvider {
  /** The signed checkpoint note of tree size `size` (the latest one when undefined). */
  checkpoint(size?: number): Promise<string>;
  /** RFC 9162 inclusion proof of leaf `index` in the tree of the first `size` leaves. */
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  /** The ledger index of each of these event hashes that is in the log. */
  findEvents(hashes: readonly string[]): Promise<Map<string, number>>;
  /**
   * Optional: the registry events about an organization id or key name, ascending by
   * index. Without it the exporter finds them by reading the leaves up to the checkpoint.
   */
  registry?(id: string): Promise<readonly RegistryHit[]>;
}

/** What storeProofProvider reads of a LedgerStore (SqliteStore and MemoryStore have it). */
export interface ProofStore {
  getCheckpoint(size: number): Promise<{ note: string } | undefined>;
  latestCheckpoint(): Promise<{ note: string } | undefined>;
  getNodes(ids: readonly NodeId[]): Promise<ReadonlyArray<Uint8Array | undefined>>;
  getLeavesByEventHash(hashes: readonly string[]): Promise<readonly { index: number; eventHash: string }[]>;
  getRegistry(id?: string): Promise<readonly { kind: RegistryKind; index: number; id: string }[]>;
}

/** A provider over a ledger store: proofs from its stored tree nodes, its registry index. */
export function storeProofProvider(store: ProofStore): ProofProvider {
  return {
    async checkpoint(size) {
      const cp = size === undefined ? await store.latestCheckpoint() : await store.getCheckpoint(size);
      if (!cp) {
        throw new BundleError(
          'CHECKPOINT_NOT_FOUND',
          size === undefined ? 'the store has no checkpoint' : `the store has no checkpoint of size ${size}`,
          { size },
        );
      }
      return cp.note;
    },
    inclusionProof: (index, size) => inclusionProof(store, index, size),
    async findEvents(hashes) {
      const found = new Map<string, number>();
      for (let i = 0; i < hashes.length; i += 500) {
        for (const l of await store.getLeavesByEventHash(hashes.slice(i, i + 500)))
          found.set(l.eventHash, l.index);
      }
      return found;
    },
    async registry(id) {
      return (await store.getRegistry(id))
        .filter((r) => r.id === id)
        .map((r) => ({ kind: r.kind, index: r.index }))
        .sort((a, b) => a.index - b.index);
    },
  };
}

export interface HttpProviderOptions {
  /** The fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Per-request timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Requests in flight at once for findEvents (default 8). */
  concurrency?: number;
}

const inclusionBody = z.object({
  index: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  hashes: z.array(z.string()).max(64),
});
const entryBody = z.object({ index: z.number().int().nonnegative(), eventHash: z.string() });

/**
 * A provider over the standalone service: `GET /v1/checkpoint`, `/v1/checkpoints/:size`,
 * `/v1/proofs/inclusion?index=&size=`, `/v1/events/:hash`. The service has no registry
 * route, so a partial export over HTTP reads the leaves up to the checkpoint once.
 */
export function httpProofProvider(baseUrl: string | URL, options: HttpProviderOptions = {}): ProofProvider {
  const base = new URL(String(baseUrl).replace(/\/*$/, '/'));
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const concurrency = Math.max(1, options.concurrency ?? 8);

  async function get(path: string, allow404 = false): Promise<string | undefined> {
    const url = new URL(path, base).toString();
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, { headers: { ...options.headers }, signal: AbortSignal.timeout(timeoutMs) });
      text = await res.text();
    } catch (cause) {
      throw new BundleError('HTTP', `GET ${url} failed: ${(cause as Error).message}`, { url }, { cause });
    }
    if (res.status === 404 && allow404) return undefined;
    if (!res.ok) {
      throw new BundleError('HTTP', `GET ${url} answered ${res.status}: ${text.slice(0, 200)}`, {
        url,
        status: res.status,
      });
    }
    return text;
  }

  function json<T extends z.ZodType>(path: string, text: string, schema: T): z.infer<T> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const url = new URL(path, base).toString();
      throw new BundleError('HTTP', `GET ${url}: unexpected body`, { url }, { cause: parsed.error });
    }
    return parsed.data as z.infer<T>;
  }

  return {
    async checkpoint(size) {
      const path = size === undefined ? 'v1/checkpoint' : `v1/checkpoints/${size}`;
      const note = await get(path, true);
      if (note === undefined)
        throw new BundleError('CHECKPOINT_NOT_FOUND', `no checkpoint of size ${size}`, { size });
      return note;
    },
    async inclusionProof(index, size) {
      const path = `v1/proofs/inclusion?index=${index}&size=${size}`;
      const body = json(path, (await get(path))!, inclusionBody);
      return body.hashes.map((h) => fromBase64(h));
    },
    async findEvents(hashes) {
      const found = new Map<string, number>();
      let next = 0;
      const worker = async () => {
        while (next < hashes.length) {
          const hash = hashes[next++]!;
          const path = `v1/events/${hash}`;
          const text = await get(path, true);
          if (text !== undefined) found.set(hash, json(path, text, entryBody).index);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, hashes.length) }, worker));
      return found;
    },
  };
}
