// Worker for ReceiptSigner: Ed25519 signatures of the log key over context || digest.
// Plain JavaScript so it loads the same way under every runner. The key arrives as a
// KeyObject (cloned into this thread by Node); it is never exported or logged.
import { Buffer } from 'node:buffer';
import { sign } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const key = workerData.key;
const context = Buffer.from(workerData.context);

// A job is one buffer of n 32-byte digests; the answer n 64-byte signatures.
parentPort.on('message', ({ id, buffer, n }) => {
  const digests = Buffer.from(buffer);
  const out = new Uint8Array(n * 64);
  const message = Buffer.alloc(context.length + 32);
  context.copy(message, 0);
  try {
    for (let i = 0; i < n; i++) {
      digests.copy(message, context.length, i * 32, i * 32 + 32);
      out.set(sign(null, message, key), i * 64);
    }
    parentPort.postMessage({ id, signatures: out }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
