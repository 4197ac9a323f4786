// The sequencer process: configuration from the environment (exit 1 with a readable error),
// then the service; SIGTERM/SIGINT finish the batch in hand, release the lease and exit.
import { runMain } from '@civic-ledger/service-config';
import { loadSequencerConfig } from './config.ts';
import { startSequencer } from './server.ts';

await runMain(
  'sequencer',
  () => startSequencer(loadSequencerConfig()),
  (s) => s.app.log,
);
