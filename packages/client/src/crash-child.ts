// The emitter process of the crash test (crash.test.ts), which SIGKILLs it between signing
// and sending:
//
//   node crash-child.ts '<json: { baseUrl, logKey, origin, stateDir, keyFile, keyName, stream, traceId,
//                                 source, dataset }>'
//
// It opens an Emitter on the state directory and emits one `collect` event from `source`
// into `dataset` (both registered by the test: the ledger refuses unregistered ones). Once
// the signed event is written to the outbox (and before anything is sent) it prints
// {"outboxed":["<event hash>"]} and waits to be killed.
import { z } from 'zod';
import { LedgerClient } from './client.ts';
import { Emitter } from './emitter.ts';

const argsSchema = z.object({
  baseUrl: z.string(),
  logKey: z.string(),
  origin: z.string(),
  stateDir: z.string(),
  keyFile: z.string(),
  keyName: z.string(),
  stream: z.string(),
  traceId: z.string(),
  source: z.string(),
  dataset: z.string(),
});

if (import.meta.main) {
  const args = argsSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
  const client = new LedgerClient({ baseUrl: args.baseUrl, logKey: args.logKey, origin: args.origin });
  const emitter = await Emitter.open({
    client,
    stateDir: args.stateDir,
    key: Emitter.loadOrCreateKey(args.keyFile, args.keyName),
    stream: args.stream,
    afterWrite: async (rows) => {
      process.stdout.write(`${JSON.stringify({ outboxed: rows.map((r) => r.hash) })}\n`);
      // Keep the process alive, never send: the test kills it here.
      setInterval(() => undefined, 1000);
      await new Promise(() => undefined);
    },
  });
  await emitter.emit({
    type: 'collect',
    source: args.source,
    dataset: { id: args.dataset, version: `sha256:${'a'.repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: 12,
    traceId: args.traceId,
  });
  process.stdout.write('sent\n');
  process.exit(0);
}
