export {
  ApiError,
  buildApp,
  Metrics,
  RateLimiter,
  REDACT_PATHS,
  statusOf,
  type ApiErrorCode,
  type AppConfig,
  type AppDeps,
  type HttpErrorCode,
  type RateLimitOptions,
  type StandaloneApp,
} from '@civic-ledger/ledger-http';
export { loadConfig, ConfigError, envSchema, type ServiceConfig } from './config.ts';
export { startService, loadLogKey, type RunningService } from './server.ts';
export {
  receiptDigest,
  signReceipt,
  verifyReceipt,
  signedReceiptSchema,
  unsignedReceiptSchema,
  type SignedReceipt,
  type UnsignedReceipt,
} from '@civic-ledger/receipts';
export { WitnessMetrics } from '@civic-ledger/ledger-http';
export {
  registerWitnessRoutes,
  witnessReadiness,
  witnessStatusBody,
  witnessStatusSchema,
  type WitnessStatusBody,
} from './witnesses.ts';
