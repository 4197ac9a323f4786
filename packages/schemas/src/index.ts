export * from './ids.ts';
export * from './primitives.ts';
export * from './events.ts';
export {
  validateEvent,
  crossFieldIssues,
  permissionIssues,
  type ValidateOptions,
  type ValidatedEvent,
} from './validate.ts';
export { SchemaError, type SchemaErrorCode, type SchemaIssue } from './errors.ts';
export { EXAMPLE_EVENTS } from './examples.ts';
export {
  canonicalEventText,
  compileCanonical,
  type CompiledCanonical,
  type CanonicalPlanReport,
} from './fast-canonical.ts';
export { compileAcceptor, type Acceptor, type AcceptorReport } from './fast-validate.ts';
