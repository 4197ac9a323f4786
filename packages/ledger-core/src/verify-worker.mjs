// Worker for SignaturePool: verifies Ed25519 signatures over context || digest.
// Plain JavaScript so it loads the same way under every runner.
import { Buffer } from 'node:buffer';
import { createPublicKey, verify } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const context = Buffer.from(workerData.context);
const keys = new Map();

function keyObject(raw) {
  const id = raw.toString('base64');
  let k = keys.get(id);
  if (k === undefined) {
    if (keys.size > 10000) keys.clear();
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    keys.set(id, k);
  }
  return k;
}

// A job is one buffer of n records: 32-byte public key, 32-byte digest, 64-byte signature.
parentPort.on('message', ({ id, buffer, n }) => {
  const data = Buffer.from(buffer);
  const results = new Uint8Array(n);
  const message = Buffer.alloc(context.length + 32);
  context.copy(message, 0);
  // Consecutive records mostly share a key: compare bytes before looking it up by text.
  let lastRaw;
  let lastKey;
  for (let i = 0; i < n; i++) {
    const o = i * 128;
    data.copy(message, context.length, o + 32, o + 64);
    try {
      if (lastRaw === undefined || data.compare(lastRaw, 0, 32, o, o + 32) !== 0) {
        lastRaw = Buffer.from(data.subarray(o, o + 32));
        lastKey = keyObject(lastRaw);
      }
      results[i] = verify(null, message, lastKey, data.subarray(o + 64, o + 128)) ? 1 : 0;
    } catch {
      lastRaw = undefined;
      results[i] = 0;
    }
  }
  parentPort.postMessage({ id, results }, [results.buffer]);
});
