export {
  PURPOSES,
  LEGAL_BASES,
  CATEGORIES,
  ACTIONS,
  TECHNIQUES,
  PROHIBITIONS,
  PERSONAL_DATA_STATES,
  DPV_NS,
  PD_NS,
  EU_GDPR_NS,
  TERMS_NS,
  defaultIri,
  type Term,
  type TermSource,
  type PurposeTerm,
  type LegalBasisTerm,
  type ProhibitionTerm,
  type PersonalDataState,
} from './data.ts';
export {
  Taxonomy,
  PurposeVocabulary,
  customPurpose,
  LEGAL_BASIS_TAXONOMY,
  CATEGORY_TAXONOMY,
  ACTION_TAXONOMY,
  TECHNIQUE_TAXONOMY,
  type CustomPurpose,
} from './taxonomy.ts';
export { categorySensitivity, prohibitionTerm, isPersonal, stateRank, type Sensitivity } from './helpers.ts';
export { PurposeError, type PurposeErrorCode, type PurposeIssue } from './errors.ts';
