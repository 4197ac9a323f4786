// The executable's entry (bin/civic-ledger.mjs imports it under Node >= 24).
import { runCli } from './cli.ts';
import { processIo } from './io.ts';

const code = await runCli(process.argv.slice(2), processIo());
// Exit explicitly: a finished command must not linger on a stray handle (a keep-alive
// socket, a timer). But first let stdout and stderr drain: a large --json answer into a
// pipe is written asynchronously, and exiting at once cut it short.
const drained = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
