export { ingestEnvSchema, loadIngestConfig, type IngestConfig } from './config.ts';
export { registerIngestRoutes } from './routes.ts';
export { startIngest, type RunningIngest } from './server.ts';
