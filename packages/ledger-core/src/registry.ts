// Who exists and which keys are in force, derived from the log (register and key events)
// and rebuilt from it. Time is ledger order: a key is valid for an event when it was added
// at an earlier ledger index and not revoked at an earlier index, whatever the events
// claim about time.
import { canonicalize } from '@civic-ledger/canonical-json';
import { parseVerifierKey, type VerifierKey } from '@civic-ledger/crypto';
import { PurposeError, PurposeVocabulary } from '@civic-ledger/purposes';
import { OPERATOR_ORG, isMovement, type Event } from '@civic-ledger/schemas';
import type { RegistryRecord } from '@civic-ledger/storage';
import { LedgerError } from './errors.ts';

export interface KeyState {
  name: string;
  org: string;
  verifier: VerifierKey;
  addedAt: number;
  recovered: boolean;
  revokedAt: number | undefined;
  compromisedSince: string | undefined;
}

export interface OrgState {
  id: string;
  role: string;
  registeredAt: number;
}

export interface ResourceState {
  id: string;
  kind: 'source' | 'dataset';
  org: string;
  registeredAt: number;
}

/** A custom purpose an organization added with a declaration. */
export interface CustomPurposeState {
  id: string;
  label: string;
  parents: string[];
  description?: string;
  org: string;
  declaredAt: number;
}

/** The shipped vocabulary, built once. */
let baseVocabulary: PurposeVocabulary | undefined;
const base = () => (baseVocabulary ??= PurposeVocabulary.base());

/** Registry state; an overlay (`child()`) holds a batch's changes until it commits. */
export class Registry {
  readonly #parent: Registry | undefined;
  readonly #orgs = new Map<string, OrgState>();
  readonly #keys = new Map<string, KeyState>();
  readonly #resources = new Map<string, ResourceState>();
  readonly #purposes = new Map<string, CustomPurposeState>();

  constructor(parent?: Registry) {
    this.#parent = parent;
  }

  static fromRecords(records: readonly RegistryRecord[]): Registry {
    const r = new Registry();
    for (const rec of records) r.apply(rec);
    return r;
  }

  child(): Registry {
    return new Registry(this);
  }

  /** Copies an overlay's changes into this registry (its parent). */
  absorb(overlay: Registry): void {
    for (const [k, v] of overlay.#orgs) this.#orgs.set(k, v);
    for (const [k, v] of overlay.#keys) this.#keys.set(k, v);
    for (const [k, v] of overlay.#purposes) this.#purposes.set(k, v);
    for (const [k, v] of overlay.#resources) this.#resources.set(k, v);
  }

  /** A copy of an overlay (same parent), for savepoints within a batch. */
  snapshot(): Registry {
    const s = new Registry(this.#parent);
    s.absorb(this);
    return s;
  }

  org(id: string): OrgState | undefined {
    return this.#orgs.get(id) ?? this.#parent?.org(id);
  }

  key(name: string): KeyState | undefined {
    return this.#keys.get(name) ?? this.#parent?.key(name);
  }

  resource(id: string): ResourceState | undefined {
    return this.#resources.get(id) ?? this.#parent?.resource(id);
  }

  /** Custom purposes declared so far, in the order they were added (parents before children). */
  customPurposes(): CustomPurposeState[] {
    const all = this.#parent?.customPurposes() ?? [];
    for (const p of this.#purposes.values()) if (!all.some((x) => x.id === p.id)) all.push(p);
    return all;
  }

  /** The shipped purpose vocabulary extended by every custom purpose declared so far. */
  vocabulary(): PurposeVocabulary {
    const custom = this.customPurposes();
    return custom.length === 0 ? base() : base().extend(custom.map(({ org: _o, declaredAt: _d, ...p }) => p));
  }

  /** Applies one stored registry record (replaying the log, or committing a batch). */
  apply(rec: RegistryRecord): void {
    const data = JSON.parse(rec.data) as Record<string, string | undefined>;
    switch (rec.kind) {
      case 'organization':
        this.#orgs.set(rec.id, { id: rec.id, role: data['role'] ?? 'agency', registeredAt: rec.index });
        break;
      case 'source':
      case 'dataset':
        this.#resources.set(rec.id, { id: rec.id, kind: rec.kind, org: rec.org, registeredAt: rec.index });
        break;
      case 'key-add':
      case 'key-recover':
        this.#keys.set(rec.id, {
          name: rec.id,
          org: rec.org,
          verifier: parseVerifierKey(data['publicKey'] ?? ''),
          addedAt: rec.index,
          recovered: rec.kind === 'key-recover',
          revokedAt: undefined,
          compromisedSince: undefined,
        });
        break;
      case 'purpose':
        this.#purposes.set(rec.id, {
          id: rec.id,
          label: data['label'] ?? rec.id,
          parents: JSON.parse(data['parents'] ?? '[]') as string[],
          ...(data['description'] === undefined ? {} : { description: data['description'] }),
          org: rec.org,
          declaredAt: rec.index,
        });
        break;
      case 'key-revoke': {
        const k = this.key(rec.id);
        if (k)
          this.#keys.set(rec.id, { ...k, revokedAt: rec.index, compromisedSince: data['compromisedSince'] });
        break;
      }
    }
  }
}

/**
 * The registry records an accepted event produces, after checking it against the registry
 * (duplicate registrations, unknown subjects, revoking what is not there). Throws
 * LedgerError; returns [] for events that change no registry state.
 */
export function registryEffects(e: Event, index: number, reg: Registry): RegistryRecord[] {
  if (e.type === 'register') {
    const s = e.subject;
    if (s.kind === 'organization') {
      if (s.id === OPERATOR_ORG || reg.org(s.id)) {
        throw new LedgerError('ALREADY_REGISTERED', `organization ${s.id} is already registered`, {
          id: s.id,
        });
      }
      return [{ index, kind: 'organization', id: s.id, org: s.id, data: canonicalize({ role: s.role }) }];
    }
    if (reg.resource(s.id))
      throw new LedgerError('ALREADY_REGISTERED', `${s.kind} ${s.id} is already registered`, { id: s.id });
    return [{ index, kind: s.kind, id: s.id, org: e.emitter, data: '{}' }];
  }
  if (e.type === 'key') {
    if (e.subjectOrg !== OPERATOR_ORG && !reg.org(e.subjectOrg)) {
      throw new LedgerError('UNKNOWN_SUBJECT', `organization ${e.subjectOrg} is not registered`, {
        org: e.subjectOrg,
      });
    }
    const existing = reg.key(e.subjectKey);
    if (e.action === 'revoke') {
      if (!existing)
        throw new LedgerError('UNKNOWN_SUBJECT', `key ${e.subjectKey} is not registered`, {
          key: e.subjectKey,
        });
      if (existing.revokedAt !== undefined) {
        throw new LedgerError('ALREADY_REGISTERED', `key ${e.subjectKey} is already revoked`, {
          key: e.subjectKey,
        });
      }
      const data = e.compromisedSince === undefined ? {} : { compromisedSince: e.compromisedSince };
      return [{ index, kind: 'key-revoke', id: e.subjectKey, org: e.subjectOrg, data: canonicalize(data) }];
    }
    if (existing)
      throw new LedgerError('ALREADY_REGISTERED', `key ${e.subjectKey} is already registered`, {
        key: e.subjectKey,
      });
    try {
      parseVerifierKey(e.publicKey ?? '');
    } catch (cause) {
      throw new LedgerError(
        'SCHEMA_INVALID',
        `publicKey is not a valid verifier key: ${(cause as Error).message}`,
        {
          issues: [
            { path: '/publicKey', rule: 'C2SP verifier key text whose key id matches', code: 'custom' },
          ],
        },
      );
    }
    return [
      {
        index,
        kind: e.action === 'recover' ? 'key-recover' : 'key-add',
        id: e.subjectKey,
        org: e.subjectOrg,
        data: canonicalize({ publicKey: e.publicKey }),
      },
    ];
  }
  if (e.type === 'declare' && e.declaration.customPurposes !== undefined) {
    return customPurposeEffects(e.emitter, e.declaration.customPurposes, index, reg);
  }
  return [];
}

/**
 * A declaration's custom purposes extend the vocabulary: each under known parents (shipped,
 * declared earlier, or earlier in the same declaration), named x-<org>:..., no cycle, and
 * never redefining one; a later version repeating one unchanged adds nothing.
 */
function customPurposeEffects(
  org: string,
  custom: NonNullable<Extract<Event, { type: 'declare' }>['declaration']['customPurposes']>,
  index: number,
  reg: Registry,
): RegistryRecord[] {
  const vocab = reg.vocabulary();
  const fresh = custom.filter((p) => {
    const known = vocab.get(p.id);
    return !(known?.source === 'custom' && known.parents.join('\n') === p.parents.join('\n'));
  });
  if (fresh.length === 0) return [];
  try {
    vocab.extend(fresh, org);
  } catch (e) {
    if (!(e instanceof PurposeError)) throw e;
    const issues = e.issues.map((i) => {
      const at = custom.findIndex((p) => p.id === i.purpose);
      const path = i.path === '/' || i.path === '' ? '' : i.path;
      return {
        purpose: i.purpose,
        path: `/declaration/customPurposes${at < 0 ? '' : `/${at}`}${path}`,
        rule: i.rule,
      };
    });
    throw new LedgerError(
      'PURPOSE_INVALID',
      `declaration.customPurposes: ${e.issues.map((i) => `${i.purpose}: ${i.rule}`).join('; ')}`,
      { issues },
    );
  }
  return fresh.map((p) => ({
    index,
    kind: 'purpose' as const,
    id: p.id,
    org,
    data: canonicalize({
      label: p.label,
      parents: JSON.stringify(p.parents),
      ...(p.description === undefined ? {} : { description: p.description }),
    }),
  }));
}

/**
 * What an event names that must already be registered: a movement's dataset (and a
 * collect's source), a dataset registration's sources. Shared by admission and the
 * verifier, so both refuse the same thing: UNKNOWN_SUBJECT (422 over HTTP).
 */
export function unregisteredReferences(e: Event, reg: Registry): LedgerError | undefined {
  const need = (path: string, kind: 'source' | 'dataset', id: string): LedgerError | undefined =>
    reg.resource(id)?.kind === kind
      ? undefined
      : new LedgerError('UNKNOWN_SUBJECT', `${path}: ${kind} ${id} is not registered`, { path, kind, id });
  if (isMovement(e)) {
    if (e.type === 'collect') {
      const s = need('/source', 'source', e.source);
      if (s) return s;
    }
    return need('/dataset/id', 'dataset', e.dataset.id);
  }
  if (e.type === 'register' && e.subject.kind === 'dataset') {
    for (const [i, id] of (e.subject.sources ?? []).entries()) {
      const s = need(`/subject/sources/${i}`, 'source', id);
      if (s) return s;
    }
  }
  return undefined;
}

/**
 * The shape of a ledger's first event: the operator adding its own key, signed by that
 * key, at seq 1. Which key it must be is the caller's (configured, or pinned by a verifier).
 */
export function isGenesisKeyEvent(e: Event): e is Extract<Event, { type: 'key' }> {
  return (
    e.type === 'key' &&
    e.action === 'add' &&
    e.emitter === OPERATOR_ORG &&
    e.subjectOrg === OPERATOR_ORG &&
    e.subjectKey === e.key &&
    e.seq === 1
  );
}
