// W3C PROV-JSON (2013 member submission) of ledger entries. The mapping is in README.md.
//
// Every identifier is a qualified name in one prefix (`cl`), built only from the events'
// own identifiers and hashes. Relations get named ids too, not `_:` blank ids: derivations
// refer to them (prov:generation, prov:usage) and both schemas require those to be URIs.
// Every relation id is derived from the event it comes from, so the same entries always
// give the same document, and two exports of overlapping entries agree on shared ids.
import { isMovement, type Event, type MovementEvent } from '@civic-ledger/schemas';
import { checkEntries, type EntryCheckOptions, type LedgerEntry, type LedgerEntryInput } from './entries.ts';
import { LineageExportError } from './errors.ts';

/** Namespace the `cl` prefix expands to unless the caller gives its own. */
export const DEFAULT_PROV_NAMESPACE = 'urn:civic-ledger:';

export interface ProvExportOptions extends EntryCheckOptions {
  /** URI the `cl` prefix expands to (e.g. `https://ledger.example.org/prov#`). */
  readonly namespace?: string;
}

/** A PROV-JSON typed literal (`prov:QUALIFIED_NAME`, `xsd:dateTime`). */
export interface ProvTypedLiteral {
  readonly $: string;
  readonly type: string;
}
export type ProvLiteral = string | number | boolean | ProvTypedLiteral;
export type ProvAttributes = Record<string, ProvLiteral | readonly ProvLiteral[]>;
type Records = Record<string, ProvAttributes>;

/** The members of a PROV-JSON document this exporter writes (empty ones are left out). */
export interface ProvDocument {
  prefix: Record<string, string>;
  entity?: Records;
  activity?: Records;
  agent?: Records;
  wasGeneratedBy?: Records;
  used?: Records;
  wasInformedBy?: Records;
  wasInvalidatedBy?: Records;
  wasDerivedFrom?: Records;
  wasAttributedTo?: Records;
  wasAssociatedWith?: Records;
  actedOnBehalfOf?: Records;
  specializationOf?: Records;
}

type RelationKind = Exclude<keyof ProvDocument, 'prefix' | 'entity' | 'activity' | 'agent'>;

/** `cl:dataset/<id>@<version>`: a dataset version (its content, wherever it is held). */
export function provDatasetId(id: string, version: string): string {
  return `cl:dataset/${id}@${version}`;
}
/** `cl:copy/<holder>/<id>@<version>`: one organization's copy of a dataset version. */
export function provCopyId(holder: string, id: string, version: string): string {
  return `cl:copy/${holder}/${id}@${version}`;
}
/** `cl:event/<event hash>`: the movement an event records. */
export function provActivityId(eventHash: string): string {
  return `cl:event/${eventHash}`;
}
/** `cl:org/<organization>`. */
export function provOrgId(org: string): string {
  return `cl:org/${org}`;
}
/** `cl:key/<organization>/<label>`: the signing key (the system acting for the organization). */
export function provKeyId(keyName: string): string {
  return `cl:key/${keyName}`;
}

const qn = (name: string): ProvTypedLiteral => ({ $: name, type: 'prov:QUALIFIED_NAME' });
const dateTime = (t: string): ProvTypedLiteral => ({ $: t, type: 'xsd:dateTime' });

const ACTIVITY_TYPE: Record<MovementEvent['type'], string> = {
  collect: 'cl:Collect',
  transfer: 'cl:Transfer',
  derive: 'cl:Derive',
  use: 'cl:Use',
  publish: 'cl:Publish',
  delete: 'cl:Delete',
};

// RFC 3986 scheme, then anything without spaces: what a PROV-JSON prefix value must be.
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

/** Builds the PROV-JSON document of the entries (movements; `register organization` labels agents). */
export function toProvJson(
  entries: readonly LedgerEntryInput[],
  options: ProvExportOptions = {},
): ProvDocument {
  const namespace = options.namespace ?? DEFAULT_PROV_NAMESPACE;
  if (!URI.test(namespace))
    throw new LineageExportError('OPTION_INVALID', 'namespace', 'must be an absolute URI (scheme:...)');
  const checked = checkEntries(entries, options);
  return new ProvBuilder(namespace, checked).build();
}

class ProvBuilder {
  readonly #namespace: string;
  readonly #entries: readonly LedgerEntry[];
  readonly #byHash: Map<string, LedgerEntry>;
  readonly #entity: Records = {};
  readonly #activity: Records = {};
  readonly #agent: Records = {};
  readonly #relations: { [K in RelationKind]: Records } = {
    wasGeneratedBy: {},
    used: {},
    wasInformedBy: {},
    wasInvalidatedBy: {},
    wasDerivedFrom: {},
    wasAttributedTo: {},
    wasAssociatedWith: {},
    actedOnBehalfOf: {},
    specializationOf: {},
  };

  constructor(namespace: string, entries: readonly LedgerEntry[]) {
    this.#namespace = namespace;
    this.#entries = entries;
    this.#byHash = new Map(entries.map((e) => [e.eventHash, e]));
  }

  build(): ProvDocument {
    for (const entry of this.#entries) {
      const e = entry.event;
      if (isMovement(e)) this.#movement(entry, e);
      else this.#governance(e);
    }
    const doc: ProvDocument = { prefix: { cl: this.#namespace } };
    const put = <K extends Exclude<keyof ProvDocument, 'prefix'>>(k: K, v: Records) => {
      if (Object.keys(v).length > 0) doc[k] = v;
    };
    put('entity', this.#entity);
    put('activity', this.#activity);
    put('agent', this.#agent);
    for (const k of Object.keys(this.#relations) as RelationKind[]) put(k, this.#relations[k]);
    return doc;
  }

  #relation(kind: RelationKind, id: string, attrs: ProvAttributes): string {
    this.#relations[kind][id] = attrs;
    return id;
  }

  #org(org: string): string {
    const id = provOrgId(org);
    this.#agent[id] ??= { 'prov:type': qn('prov:Organization'), 'cl:organization': org };
    return id;
  }

  #key(keyName: string, org: string): string {
    const id = provKeyId(keyName);
    if (!this.#agent[id]) {
      this.#agent[id] = { 'prov:type': qn('prov:SoftwareAgent'), 'cl:keyName': keyName };
      // A key belongs to exactly one organization (its name's prefix, checked at admission):
      // the system holding it acts on that organization's behalf in every event it signs.
      this.#relation('actedOnBehalfOf', `cl:delegation/${keyName}`, {
        'prov:delegate': id,
        'prov:responsible': this.#org(org),
      });
    }
    return id;
  }

  /** The dataset version and the holder's copy of it (a specialization of the version). */
  #copy(holder: string, dataset: { id: string; version: string }): string {
    const general = provDatasetId(dataset.id, dataset.version);
    this.#entity[general] ??= {
      'prov:type': qn('cl:DatasetVersion'),
      'cl:dataset': dataset.id,
      'cl:version': dataset.version,
    };
    const id = provCopyId(holder, dataset.id, dataset.version);
    if (!this.#entity[id]) {
      this.#entity[id] = {
        'prov:type': qn('cl:HeldCopy'),
        'cl:holder': holder,
        'cl:dataset': dataset.id,
        'cl:version': dataset.version,
      };
      this.#relation('specializationOf', `cl:copy/${holder}/${dataset.id}@${dataset.version}`, {
        'prov:specificEntity': id,
        'prov:generalEntity': general,
      });
    }
    return id;
  }

  #governance(e: Event): void {
    // Only organization registrations add to the graph: they name the agents.
    if (e.type !== 'register' || e.subject.kind !== 'organization') return;
    const agent = this.#agent[this.#org(e.subject.id)]!;
    agent['prov:label'] = e.subject.name;
    agent['cl:role'] = e.subject.role;
    agent['cl:jurisdiction'] = e.subject.jurisdiction;
  }

  #movement(entry: LedgerEntry, e: MovementEvent): void {
    const h = entry.eventHash;
    const act = provActivityId(h);
    const org = this.#org(e.emitter);
    const key = this.#key(e.key, e.emitter);
    this.#activity[act] = activityAttributes(entry, e);
    this.#relation('wasAssociatedWith', `cl:emitter/${h}`, {
      'prov:activity': act,
      'prov:agent': org,
      'prov:role': qn('cl:Emitter'),
    });
    this.#relation('wasAssociatedWith', `cl:signer/${h}`, {
      'prov:activity': act,
      'prov:agent': key,
      'prov:role': qn('cl:SigningKey'),
    });
    // The exact upstream movements, whether or not they are part of this export.
    e.inputs.forEach((input, i) => {
      this.#relation('wasInformedBy', `cl:input/${h}/${i}`, {
        'prov:informed': act,
        'prov:informant': provActivityId(input),
      });
    });
    const time = e.time;
    const generate = (copy: string, holder: string): string => {
      this.#relation('wasAttributedTo', `cl:attribution/${h}`, { 'prov:entity': copy, 'prov:agent': holder });
      return this.#relation('wasGeneratedBy', `cl:generation/${h}`, {
        'prov:entity': copy,
        'prov:activity': act,
        'prov:time': time,
      });
    };
    const use = (copy: string, n: number): string =>
      this.#relation('used', `cl:usage/${h}/${n}`, {
        'prov:activity': act,
        'prov:entity': copy,
        'prov:time': time,
      });

    switch (e.type) {
      case 'collect':
        generate(this.#copy(e.emitter, e.dataset), org);
        return;
      case 'transfer': {
        const from = this.#copy(e.emitter, e.dataset);
        const to = this.#copy(e.recipient, e.dataset);
        const recipient = this.#org(e.recipient);
        this.#relation('wasAssociatedWith', `cl:recipient/${h}`, {
          'prov:activity': act,
          'prov:agent': recipient,
          'prov:role': qn('cl:Recipient'),
        });
        const usage = use(from, 0);
        const generation = generate(to, recipient);
        this.#relation('wasDerivedFrom', `cl:derivation/${h}/0`, {
          'prov:generatedEntity': to,
          'prov:usedEntity': from,
          'prov:activity': act,
          'prov:generation': generation,
          'prov:usage': usage,
        });
        return;
      }
      case 'derive': {
        const out = this.#copy(e.emitter, e.dataset);
        const generation = generate(out, org);
        const seen = new Set<string>();
        e.inputs.forEach((input, i) => {
          const upstream = this.#byHash.get(input)?.event;
          // An input outside the export (or not a movement) stays a wasInformedBy only:
          // its dataset is unknown here, and guessing would invent lineage.
          if (!upstream || !isMovement(upstream)) return;
          const used = this.#copy(e.emitter, upstream.dataset);
          if (seen.has(used)) return;
          seen.add(used);
          const usage = use(used, i);
          this.#relation('wasDerivedFrom', `cl:derivation/${h}/${i}`, {
            'prov:generatedEntity': out,
            'prov:usedEntity': used,
            'prov:activity': act,
            'prov:generation': generation,
            'prov:usage': usage,
          });
        });
        return;
      }
      case 'use':
      case 'publish':
        use(this.#copy(e.emitter, e.dataset), 0);
        return;
      case 'delete':
        this.#relation('wasInvalidatedBy', `cl:invalidation/${h}`, {
          'prov:entity': this.#copy(e.emitter, e.dataset),
          'prov:activity': act,
          'prov:time': time,
        });
        return;
    }
  }
}

function activityAttributes(entry: LedgerEntry, e: MovementEvent): ProvAttributes {
  const a: ProvAttributes = {
    'prov:type': qn(ACTIVITY_TYPE[e.type]),
    // Events are instants: the emitter's claimed time is both start and end.
    'prov:startTime': e.time,
    'prov:endTime': e.time,
    'cl:eventHash': entry.eventHash,
    'cl:ledgerIndex': entry.index,
    'cl:admitted': dateTime(entry.admitted),
    'cl:emitter': e.emitter,
    'cl:stream': e.stream,
    'cl:seq': e.seq,
    'cl:key': e.key,
    'cl:dataset': e.dataset.id,
    'cl:version': e.dataset.version,
    'cl:purpose': e.purpose,
    'cl:declaration': e.declaration,
  };
  if (e.traceId !== undefined) a['cl:traceId'] = e.traceId;
  if (e.note !== undefined) a['cl:note'] = e.note;
  const opt = (k: string, v: ProvLiteral | readonly ProvLiteral[] | undefined) => {
    if (v !== undefined) a[k] = v;
  };
  switch (e.type) {
    case 'collect':
      opt('cl:source', e.source);
      opt('cl:categories', e.categories);
      opt('cl:personalData', e.personalData);
      opt('cl:from', e.from === undefined ? undefined : dateTime(e.from));
      opt('cl:until', e.until === undefined ? undefined : dateTime(e.until));
      opt('cl:records', e.records);
      opt('cl:bytes', e.bytes);
      opt('cl:format', e.format);
      break;
    case 'transfer':
      opt('cl:recipient', e.recipient);
      opt('cl:nextPolicy', e.nextPolicy);
      opt('cl:agreement', e.agreement);
      opt('cl:records', e.records);
      break;
    case 'derive':
      opt('cl:processing', e.processing);
      opt('cl:categories', e.categories);
      opt('cl:personalData', e.personalData);
      opt('cl:anonymisationTechnique', e.anonymisation?.technique);
      opt('cl:anonymisationAssessment', e.anonymisation?.assessment);
      opt('cl:anonymisationParameter', e.anonymisation?.parameter);
      opt('cl:records', e.records);
      break;
    case 'use':
      opt('cl:action', e.action);
      opt('cl:records', e.records);
      break;
    case 'publish':
      opt('cl:audience', e.audience);
      opt('cl:url', e.url);
      opt('cl:licence', e.licence);
      break;
    case 'delete':
      opt('cl:method', e.method);
      opt('cl:records', e.records);
      break;
  }
  return a;
}
