export {
  declarationToOdrl,
  declareEventToOdrl,
  type OdrlExportOptions,
  type OdrlEventExportOptions,
} from './export.ts';
export {
  localDocumentLoader,
  ODRL_CONTEXT_URL,
  ODRL_CONTEXT_DOCUMENT,
  CIVIC_LEDGER_CONTEXT,
  LOCAL_CONTEXT_URLS,
  type CivicLedgerContext,
  type LocalRemoteDocument,
} from './contexts.ts';
export {
  CIVIC_LEDGER_NS,
  TERMS_NS,
  PROFILE_IRI,
  PROFILE_NS,
  ODRL_NS,
  DPV_NS,
  DPV_LOC_NS,
  DPV_PREFIXES,
  DEFAULT_BASE,
  defaultTermIri,
  isAbsoluteIri,
  policyIri,
  eventIri,
  orgIri,
  resourceIri,
  jurisdictionIri,
} from './iris.ts';
export {
  PROHIBITION_MAPPINGS,
  PROCESSING_IRIS,
  PERSONAL_DATA_IRIS,
  ROLE_IRIS,
  ASSESSMENT_IRIS,
  DELETION_IRIS,
  CONCLUDE_AGREEMENT,
  type ProhibitionMapping,
} from './mapping.ts';
export { OdrlError, type OdrlErrorCode, type OdrlIssue } from './errors.ts';
export type * from './types.ts';
