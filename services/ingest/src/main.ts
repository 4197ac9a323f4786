// The ingest process: configuration from the environment (exit 1 with a readable error),
// then the service; SIGTERM/SIGINT stop intake, drain in-flight requests, close the buses.
import { runMain } from '@civic-ledger/service-config';
import { loadIngestConfig } from './config.ts';
import { startIngest } from './server.ts';

await runMain(
  'ingest',
  () => startIngest(loadIngestConfig()),
  (s) => s.app.log,
);
