export {
  buildApp,
  errorBody,
  REDACT_PATHS,
  type AppConfig,
  type AppDeps,
  type LogAccess,
  type StandaloneApp,
  type SubmissionTools,
  type ZodRouter,
} from './app.ts';
export { ApiError, statusOf, type ApiErrorCode, type HttpErrorCode } from './errors.ts';
export { Metrics } from './metrics.ts';
export { WitnessMetrics } from './witness-metrics.ts';
export { RateLimiter, type RateLimitOptions } from './rate-limit.ts';
export { ledgerPublishers, registerNotifications } from './notifications.ts';
export * as apiSchemas from './schemas.ts';
export { StoreLogView, type StoreLogViewOptions } from './store-view.ts';
export {
  ROUTE_ACCESS,
  routeAccessOf,
  storeOrgRole,
  accessLogQuery,
  accessLogPage,
  type AccessOptions,
  type RouteAccess,
} from './access.ts';
