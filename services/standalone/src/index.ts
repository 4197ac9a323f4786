export { buildApp, REDACT_PATHS, type AppConfig, type AppDeps, type StandaloneApp } from './app.ts';
export { ApiError, statusOf, type ApiErrorCode, type HttpErrorCode } from './errors.ts';
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
export { Metrics } from './metrics.ts';
export { RateLimiter, type RateLimitOptions } from './rate-limit.ts';
