// Test fixtures: schema-shaped events turned into real leaves (encodeLeaf), with their
// event hashes from decodeLeaf. Not exported by the package.
import { encodeLeaf, decodeLeaf } from '@civic-ledger/leaf';
import type { MovementType } from '@civic-ledger/schemas';
import type { LeafRecord } from '@civic-ledger/storage';
import type { LeafSource } from './lineage-index.ts';

export interface Spec {
  /** Name used to refer to the event in tests. */
  name: string;
  type: MovementType | 'register';
  inputs?: string[];
  emitter?: string;
  purpose?: string;
  recipient?: string;
  dataset?: string;
  /** Defaults to a digest derived from the name (every event its own version). */
  version?: string;
  source?: string;
  categories?: string[];
  /** Claimed time; defaults to 2026-10-01T00:00:<position>Z. */
  time?: string;
}

export const PLACEHOLDER_SIGNATURE = `${'A'.repeat(86)}==`;

// RFC 8785 for the ASCII strings, small integers, arrays and objects the fixtures use.
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function hex64(text: string): string {
  let h = '';
  for (let i = 0; h.length < 64; i++)
    h += (text.charCodeAt(i % text.length) + i).toString(16).padStart(2, '0');
  return h.slice(0, 64);
}

export function versionOf(name: string): string {
  return `sha256:${hex64(`v-${name}`)}`;
}

export interface Built {
  records: LeafRecord[];
  /** Event hash by spec name. */
  hash: Map<string, string>;
  /** Spec name by event hash. */
  name: Map<string, string>;
}

export function buildLeaves(specs: readonly Spec[]): Built {
  const hash = new Map<string, string>();
  const name = new Map<string, string>();
  const seqs = new Map<string, { seq: number; prev: string }>();
  const records: LeafRecord[] = specs.map((s, index) => {
    const emitter = s.emitter ?? 'transport-agency';
    const chain = seqs.get(emitter) ?? { seq: 0, prev: '0'.repeat(64) };
    const time =
      s.time ??
      `2026-10-01T00:${String(Math.floor(index / 60) % 60).padStart(2, '0')}:${String(index % 60).padStart(2, '0')}Z`;
    const envelope = {
      v: 1,
      emitter,
      stream: 's',
      seq: chain.seq + 1,
      prev: chain.prev,
      time,
      key: `${emitter}/k1`,
    };
    let event: Record<string, unknown>;
    if (s.type === 'register') {
      event = {
        ...envelope,
        type: 'register',
        subject: {
          kind: 'dataset',
          id: `${emitter}/d`,
          name: 'd',
          categories: ['dpv:Data'],
          personalData: 'none',
        },
      };
    } else {
      event = {
        ...envelope,
        type: s.type,
        dataset: { id: s.dataset ?? `${emitter}/data`, version: s.version ?? versionOf(s.name) },
        inputs: (s.inputs ?? []).map((n) => {
          const h = hash.get(n);
          if (h === undefined) throw new Error(`fixture: ${s.name} names unknown input ${n}`);
          return h;
        }),
        purpose: s.purpose ?? 'city:TrafficManagement',
        declaration: 'd'.repeat(64),
      };
      if (s.type === 'collect') {
        Object.assign(event, {
          source: s.source ?? `${emitter}/cam-1`,
          categories: s.categories ?? ['city:Video'],
          personalData: 'none',
        });
      } else if (s.type === 'derive') {
        Object.assign(event, {
          processing: ['aggregate'],
          categories: s.categories ?? ['city:Counts'],
          personalData: 'none',
        });
      } else if (s.type === 'transfer') {
        event['recipient'] = s.recipient ?? 'statistics-office';
      } else if (s.type === 'use') {
        event['action'] = 'city:View';
      } else if (s.type === 'publish') {
        event['audience'] = 'public';
      } else {
        event['method'] = 'erase';
      }
    }
    const leaf = encodeLeaf({
      index,
      admitted: '2026-10-02T00:00:00.000Z',
      eventCanonical: canonical(event),
      signature: PLACEHOLDER_SIGNATURE,
    });
    const eventHash = decodeLeaf(leaf).eventHash;
    seqs.set(emitter, { seq: chain.seq + 1, prev: eventHash });
    hash.set(s.name, eventHash);
    name.set(eventHash, s.name);
    return { index, leaf, eventHash, chain: `${emitter}/s`, seq: chain.seq + 1 };
  });
  return { records, hash, name };
}

/** A LeafSource over an array (what the index reads from a LedgerStore). */
export function arraySource(records: readonly LeafRecord[]): LeafSource {
  return {
    head: async () => ({ size: records.length, rootHash: new Uint8Array(32), epoch: 0 }),
    getLeaves: async (from, to) => records.slice(from, Math.min(to, records.length)),
  };
}
