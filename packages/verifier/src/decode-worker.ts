// Worker thread of the verifier: decodes, hashes, fingerprints and signature-checks the
// chunks it is sent (chunk.ts), in the order it receives them, and checks batches of
// signatures the calling thread could not match to a key in force.
import { parentPort, workerData } from 'node:worker_threads';
import {
  ChunkDecoder,
  decodeRows,
  outputTransfer,
  verifyRecords,
  type ChunkInput,
  type ChunkOutput,
  type KeyHint,
} from './chunk.ts';
// The subpath: a worker loads the reader alone, not the whole store.
import { SqliteLeafReader } from '@civic-ledger/storage/sqlite-reader';

const { fingerprintKey, checkSignatures, context } = workerData as {
  fingerprintKey: Uint8Array;
  checkSignatures: boolean;
  context: Uint8Array;
};
const decoder = new ChunkDecoder({ fingerprintKey, checkSignatures, context });
/** Read-only connections to the files this worker reads chunks from, by path. */
const readers = new Map<string, SqliteLeafReader>();

interface Message {
  id: number;
  input?: ChunkInput;
  read?: { path: string; from: number; to: number; keys: KeyHint[] };
  verify?: Uint8Array;
  n?: number;
}

function readAndDecode(read: NonNullable<Message['read']>): ChunkOutput {
  decoder.learn(read.keys);
  let reader = readers.get(read.path);
  if (reader === undefined) readers.set(read.path, (reader = new SqliteLeafReader(read.path)));
  return decodeRows(decoder, read.from, reader.rows(read.from, read.to));
}

parentPort!.on('message', (m: Message) => {
  try {
    if (m.input || m.read) {
      const { strings, ...output } = m.input ? decoder.decode(m.input) : readAndDecode(m.read!);
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
