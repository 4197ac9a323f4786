// The witness process: configuration from the environment (exit 1 with a readable error
// naming the variable), then the service; SIGTERM/SIGINT stop intake, drain and exit 0.
import { runMain } from '@civic-ledger/service-config';
import { loadWitnessConfig } from './config.ts';
import { startWitness } from './server.ts';

await runMain(
  'witness',
  async () => {
    const config = loadWitnessConfig();
    const service = await startWitness(config);
    if (config.keyCreated) {
      service.app.log.warn(
        { verifierKey: service.witness.verifierKey },
        'created a new witness key: publish its verifier key (witness lines of tlog-policy files)',
      );
    }
    return service;
  },
  (s) => s.app.log,
);
