// Worker thread of the verifier: decodes, hashes, fingerprints and signature-checks the
// chunks it is sent (chunk.ts), in the order it receives them, and checks batches of
// signatures the calling thread could not match to a key in force.
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkDecoder, outputTransfer, verifyRecords, type ChunkInput } from './chunk.ts';

const { fingerprintKey, checkSignatures, context } = workerData as {
  fingerprintKey: Uint8Array;
  checkSignatures: boolean;
  context: Uint8Array;
};
const decoder = new ChunkDecoder({ fingerprintKey, checkSignatures, context });

parentPort!.on('message', (m: { id: number; input?: ChunkInput; verify?: Uint8Array; n?: number }) => {
  try {
    if (m.input) {
      const { strings, ...output } = decoder.decode(m.input);
      // One string crosses threads faster than thousands (none contains a line feed:
      // hex hashes and identifiers whose patterns exclude it).
      parentPort!.postMessage(
        { id: m.id, output: { ...output, text: strings.join('\n') } },
        outputTransfer(output),
      );
    } else {
      const results = verifyRecords(context, m.verify!, m.n!);
      parentPort!.postMessage({ id: m.id, results }, [results.buffer as ArrayBuffer]);
    }
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
