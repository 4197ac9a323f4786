export { loadComplianceConfig, complianceEnvSchema, type ComplianceConfig } from './config.ts';
export { startCompliance, type RunningCompliance } from './server.ts';
