// The term-by-term mappings from declaration vocabulary to ODRL, DPV and our profile.
// Each table is exported so the README, the tests and a reader can see every choice.
import { DPV_NS, ODRL_NS, PROFILE_NS } from './iris.ts';

/** How a declared prohibition term becomes an ODRL prohibition. */
export interface ProhibitionMapping {
  /** The ODRL action prohibited (a term of the ODRL context, e.g. `sell`). */
  action: string;
  /** When set, the prohibition holds for this purpose only: a `purpose eq <the term's IRI>` constraint. */
  asPurpose?: true;
  /** Why, in one line (quoted by the README). */
  why: string;
}

/**
 * Known prohibition terms. Any other term is kept, never dropped: it becomes a prohibition
 * whose action is the term's own IRI (our namespace, or DPV's), with `cl:declaredTerm`.
 */
export const PROHIBITION_MAPPINGS: Readonly<Record<string, ProhibitionMapping>> = {
  'city:SaleToThirdParties': {
    action: 'sell',
    why: 'odrl:sell is "to transfer the ownership of the asset to a third party with compensation"',
  },
  'city:PersonTracking': {
    action: 'use',
    asPurpose: true,
    why: 'ODRL has no tracking action (acceptTracking is a duty to be tracked): any use for the purpose of tracking persons is prohibited',
  },
};

/** Permitted processing: ODRL actions where ODRL has the same operation, our profile otherwise. */
export const PROCESSING_IRIS: Readonly<Record<string, string>> = {
  aggregate: `${ODRL_NS}aggregate`,
  anonymise: `${ODRL_NS}anonymize`,
  transform: `${ODRL_NS}transform`,
  pseudonymise: `${PROFILE_NS}pseudonymise`,
  filter: `${PROFILE_NS}filter`,
  join: `${PROFILE_NS}join`,
  sample: `${PROFILE_NS}sample`,
  'train-model': `${PROFILE_NS}trainModel`,
  infer: `${PROFILE_NS}infer`,
};

/** The personal-data state, as DPV 2.x data concepts. */
export const PERSONAL_DATA_IRIS: Readonly<Record<string, string>> = {
  identified: `${DPV_NS}IdentifyingPersonalData`,
  pseudonymised: `${DPV_NS}PseudonymisedData`,
  'contextually-anonymised': `${DPV_NS}ContextuallyAnonymisedData`,
  anonymised: `${DPV_NS}AnonymisedData`,
  none: `${DPV_NS}NonPersonalData`,
};

/** A recipient role: a class every organization of that role is an instance of (`recipient isA`). */
export const ROLE_IRIS: Readonly<Record<string, string>> = {
  agency: `${PROFILE_NS}Agency`,
  vendor: `${PROFILE_NS}Vendor`,
  oversight: `${PROFILE_NS}Oversight`,
  research: `${PROFILE_NS}Research`,
  public: `${PROFILE_NS}Public`,
};

/** Assessment kinds: DPV's DPIA; ours for the rest. */
export const ASSESSMENT_IRIS: Readonly<Record<string, string>> = {
  dpia: `${DPV_NS}DPIA`,
  compatibility: `${PROFILE_NS}CompatibilityAssessment`,
  anonymisation: `${PROFILE_NS}AnonymisationAssessment`,
  'legitimate-interest': `${PROFILE_NS}LegitimateInterestAssessment`,
};

/** Deletion methods (the retention duty's `cl:deletionMethod`). */
export const DELETION_IRIS: Readonly<Record<string, string>> = {
  erase: `${PROFILE_NS}erase`,
  overwrite: `${PROFILE_NS}overwrite`,
  'crypto-shred': `${PROFILE_NS}cryptoShred`,
  'destroy-media': `${PROFILE_NS}destroyMedia`,
};

/** Our profile's action for a recipient rule's `agreementRequired` (ODRL has none). */
export const CONCLUDE_AGREEMENT = 'cl:concludeAgreement';
