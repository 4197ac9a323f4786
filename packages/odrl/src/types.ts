// The shape of an exported policy: compact JSON-LD under the ODRL 2.2 context and ours.
import type { CivicLedgerContext, ODRL_CONTEXT_URL } from './contexts.ts';

/** A node reference: an absolute IRI. */
export interface IriRef {
  '@id': string;
}

/** A typed literal (`rightOperand` of dateTime and elapsedTime constraints). */
export interface TypedLiteral {
  '@value': string;
  '@type': 'xsd:dateTime' | 'xsd:duration';
}

export type OdrlLeftOperand = 'purpose' | 'recipient' | 'count' | 'dateTime' | 'elapsedTime' | 'spatial';
export type OdrlOperator = 'eq' | 'isA' | 'isAnyOf' | 'lt' | 'lteq' | 'gteq';

export interface OdrlConstraint {
  leftOperand: OdrlLeftOperand;
  operator: OdrlOperator;
  /** An IRI (`eq`, `isA`), a set of IRIs (`isAnyOf`), a typed literal, or a count. */
  rightOperand: IriRef | IriRef[] | TypedLiteral | number;
}

export interface OdrlDuty {
  uid: string;
  /** `delete`, `nextPolicy`, or `cl:concludeAgreement`. */
  action: string;
  constraint?: OdrlConstraint[];
  /** Retention: how data is deleted. */
  'cl:deletionMethod'?: string;
  /** Retention: its basis, as declared. */
  'dct:description'?: string;
  /** nextPolicy: the policy the next one must be at least as strict as (this one). */
  'cl:atLeastAsStrictAs'?: string;
}

export interface OdrlPermission {
  /** `<policy uid>#purposes-<i>` or `#recipients-<i>`: the declaration field it comes from. */
  uid: string;
  /** `use` (a declared purpose) or `distribute` (an allowed recipient rule). */
  action: 'use' | 'distribute';
  constraint: OdrlConstraint[];
  duty?: OdrlDuty[];
  'dpv:hasLegalBasis'?: string;
  'dct:description'?: string;
  'cl:primary'?: true;
  'cl:onwardTransfer'?: boolean;
}

export interface OdrlProhibition {
  /** `<policy uid>#prohibitions-<i>`. */
  uid: string;
  /** An ODRL action (`sell`, `use`) or, for a term with no mapping, the term's own IRI. */
  action: string;
  constraint?: OdrlConstraint[];
  /** The declared prohibition term, as an IRI: kept whatever the action. */
  'cl:declaredTerm': string;
}

export interface OdrlCustomPurpose {
  '@id': string;
  '@type': 'dpv:Purpose';
  'skos:prefLabel': string;
  'skos:broader': string[];
  'dct:description'?: string;
}

export interface OdrlStorageLocation {
  '@type': 'dpv:StorageLocation';
  'rdfs:label': string;
  'dpv:hasLocation': string;
}

export interface OdrlAssessment {
  '@id': string;
  '@type': string;
  'cl:digest': string;
  'dct:issued': string;
}

/** An ODRL 2.2 policy (JSON-LD, compact form) exported from one declaration version. */
export interface OdrlPolicy {
  '@context': [typeof ODRL_CONTEXT_URL, CivicLedgerContext];
  '@type': 'Set';
  uid: string;
  profile: string;
  conflict: 'prohibit';
  target: string;
  assigner: string;
  /** The declare event this policy was exported from. */
  'dct:source': string;
  'cl:version': number;
  /** The policy of the version this one supersedes. */
  'dct:replaces'?: string;
  permission: OdrlPermission[];
  prohibition?: OdrlProhibition[];
  obligation: OdrlDuty[];
  'dpv:hasData': string[];
  'cl:personalDataState': string;
  'cl:processing'?: string[];
  'dpv:hasTechnicalOrganisationalMeasure'?: string[];
  'cl:customPurpose'?: OdrlCustomPurpose[];
  'dpv:hasStorageCondition': OdrlStorageLocation[];
  'cl:assessment'?: OdrlAssessment[];
  'dpv:hasNotice'?: string;
  'cl:registerEntry'?: string;
}
