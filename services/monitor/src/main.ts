// The monitor process: configuration from the environment (exit 1 with a readable error),
// then the service; SIGTERM/SIGINT stop intake, let the poll in progress finish and publish,
// save the state and exit.
import { runMain } from '@civic-ledger/service-config';
import { loadMonitorConfig } from './config.ts';
import { startMonitor } from './server.ts';

await runMain(
  'monitor',
  () => startMonitor(loadMonitorConfig()),
  (s) => s.app.log,
);
