export { loadQueryConfig, queryEnvSchema, type QueryConfig } from './config.ts';
export { startQuery, type RunningQuery } from './server.ts';
