// The query process: configuration from the environment (exit 1 with a readable error),
// then the service; SIGTERM/SIGINT drain in-flight requests and exit.
import { runMain } from '@civic-ledger/service-config';
import { loadQueryConfig } from './config.ts';
import { startQuery } from './server.ts';

await runMain(
  'query',
  () => startQuery(loadQueryConfig()),
  (s) => s.app.log,
);
