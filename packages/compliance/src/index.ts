export { ComplianceState, decideQuery, type DecideQuery, type Decision } from './state.ts';
export { type Outcome, type OutcomeKind, capPath, sentence } from './evaluate.ts';
export { toFinding, findingsOf, isFinding, type FindingBody } from './finding.ts';
export { CHECKS, CHECK_IDS, KEY_COMPROMISE, type CheckId } from './checks.ts';
export { addDuration, compareDurations } from './time.ts';
export { EEA, ADEQUATE, freeFlow } from './jurisdictions.ts';
export { ComplianceError, type ComplianceErrorCode, type ComplianceIssue } from './errors.ts';
