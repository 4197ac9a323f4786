// The executable's entry (bin/civic-ledger.mjs imports it under Node >= 24).
import { runCli } from './cli.ts';
import { processIo } from './io.ts';

const code = await runCli(process.argv.slice(2), processIo());
// Exit explicitly: a finished command must not linger on a stray handle (a keep-alive
// socket, a timer). stdout and stderr writes are synchronous for files, pipes and TTYs.
process.exit(code);
