// Receipts signed on every core. A receipt costs one Ed25519 signature (~65 µs here), as
// much as the rest of an HTTP batch's work on the event loop: for a large batch the
// signatures are made on worker threads while the event loop goes on admitting the next
// requests. Ed25519 is deterministic, so a receipt is byte for byte the one signReceipt
// makes on the calling thread.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SIGNATURE_CONTEXTS, toBase64, type SigningKey } from '@civic-ledger/crypto';
import { receiptDigest, signReceipt, type SignedReceipt, type UnsignedReceipt } from './receipts.ts';

export interface ReceiptSignerOptions {
  /** Worker threads (default: available parallelism; 0 signs on the calling thread). */
  threads?: number;
  /** Fewer receipts than this are signed on the calling thread (default 16). */
  minParallel?: number;
}

type Admitted = { index: number; eventHash: string; leafHash: string; admitted: string };

interface Pending {
  resolve: (signatures: Uint8Array) => void;
  reject: (e: Error) => void;
}

export class ReceiptSigner {
  readonly #key: SigningKey;
  readonly #log: { origin: string; checkpointWithinMs: number };
  readonly #threads: number;
  readonly #minParallel: number;
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #next = 0;
  #closed = false;

  constructor(
    key: SigningKey,
    log: { origin: string; checkpointWithinMs: number },
    options: ReceiptSignerOptions = {},
  ) {
    this.#key = key;
    this.#log = log;
    this.#threads = options.threads ?? availableParallelism();
    this.#minParallel = options.minParallel ?? 16;
  }

  /** One receipt, on the calling thread. */
  sign(receipt: Admitted): SignedReceipt {
    return signReceipt(this.#key, receipt, this.#log);
  }

  /** Receipts in order; a large set is signed on the worker threads. */
  async signAll(receipts: readonly Admitted[]): Promise<SignedReceipt[]> {
    const n = receipts.length;
    if (n < this.#minParallel || this.#threads === 0 || this.#closed)
      return receipts.map((r) => this.sign(r));
    const unsigned: UnsignedReceipt[] = receipts.map((r) => ({
      index: r.index,
      eventHash: r.eventHash,
      leafHash: r.leafHash,
      admitted: r.admitted,
      logOrigin: this.#log.origin,
      checkpointWithinMs: this.#log.checkpointWithinMs,
    }));
    this.#start();
    const parts = Math.min(this.#workers.length, Math.ceil(n / (this.#minParallel / 2)));
    const per = Math.ceil(n / parts);
    const chunks: Promise<Uint8Array>[] = [];
    for (let start = 0; start < n; start += per) {
      const end = Math.min(n, start + per);
      const digests = new Uint8Array(new ArrayBuffer((end - start) * 32));
      for (let i = start; i < end; i++) digests.set(receiptDigest(unsigned[i]!), (i - start) * 32);
      chunks.push(this.#run(digests, end - start));
    }
    const signed: SignedReceipt[] = [];
    let i = 0;
    for (const signatures of await Promise.all(chunks)) {
      for (let o = 0; o < signatures.length; o += 64, i++) {
        signed.push({ ...unsigned[i]!, signature: toBase64(signatures.subarray(o, o + 64)) });
      }
    }
    return signed;
  }

  // Workers start on the first set large enough to need them.
  #start(): void {
    for (let i = this.#workers.length; i < this.#threads; i++) {
      const w = new Worker(new URL('./sign-worker.mjs', import.meta.url), {
        workerData: {
          key: this.#key.privateKeyObject,
          context: Buffer.from(SIGNATURE_CONTEXTS.receipt, 'utf8'),
        },
      });
      w.unref();
      w.on('message', (m: { id: number; signatures?: Uint8Array; error?: string }) => {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.signatures) p?.resolve(m.signatures);
        else p?.reject(new Error(`receipt signing failed: ${m.error}`));
      });
      w.on('error', (e) => {
        for (const p of this.#pending.values()) p.reject(e);
        this.#pending.clear();
      });
      this.#workers.push(w);
    }
  }

  #run(digests: Uint8Array<ArrayBuffer>, n: number): Promise<Uint8Array> {
    const id = this.#nextId++;
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, buffer: digests.buffer, n }, [digests.buffer]);
    });
  }

  /** Stops the workers (later calls sign on the calling thread). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#workers.length = 0;
    for (const p of this.#pending.values()) p.reject(new Error('receipt signer closed'));
    this.#pending.clear();
  }
}
