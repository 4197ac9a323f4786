// The compliance process: configuration from the environment (exit 1 with a readable error),
// then the service; SIGTERM/SIGINT stop intake, drain the findings queue and exit.
import { runMain } from '@civic-ledger/service-config';
import { loadComplianceConfig } from './config.ts';
import { startCompliance } from './server.ts';

await runMain(
  'compliance',
  () => startCompliance(loadComplianceConfig()),
  (s) => s.app.log,
);
