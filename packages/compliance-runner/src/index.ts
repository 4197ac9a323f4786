export {
  ComplianceRunner,
  type ComplianceRunnerOptions,
  type ComplianceStatus,
  type LogSource,
  type SignedFinding,
  type SubmitFindings,
  type SubmitOutcome,
} from './runner.ts';
export {
  FindingsIndex,
  type EvaluatedEvent,
  type FindingRecord,
  type FindingsFilter,
  type FindingsPage,
} from './findings-index.ts';
export { busAlert } from './alerts.ts';
export { registerComplianceRoutes, COMPLIANCE_ROUTE_ACCESS, type ComplianceRoutesOptions } from './routes.ts';
export { ComplianceRunnerError, refusalAction, type ComplianceRunnerErrorCode } from './errors.ts';
export * as complianceSchemas from './schemas.ts';
export { MAX_FINDINGS_PAGE } from './schemas.ts';
