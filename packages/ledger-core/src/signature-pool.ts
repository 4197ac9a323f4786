// Event signatures checked on every core: large batches are split across worker threads;
// small ones are verified on the calling thread, where a worker round trip would cost
// more than it saves.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SIGNATURE_CONTEXTS, verifyDigest, type VerifierKey } from '@civic-ledger/crypto';

export interface SignatureJob {
  key: VerifierKey;
  /** 32-byte event hash. */
  digest: Uint8Array;
  signature: Uint8Array;
}

export interface SignaturePoolOptions {
  /** Worker threads (default: available parallelism; 0 verifies on the calling thread). */
  threads?: number;
  /** Fewer jobs than this are verified on the calling thread (default 64). */
  minParallel?: number;
}

interface Pending {
  resolve: (r: Uint8Array) => void;
  reject: (e: Error) => void;
}

export class SignaturePool {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #minParallel: number;
  #nextId = 1;
  #next = 0;

  readonly #threads: number;

  constructor(options: SignaturePoolOptions = {}) {
    this.#threads = options.threads ?? availableParallelism();
    this.#minParallel = options.minParallel ?? 64;
  }

  // Workers start on the first batch large enough to need them: a ledger that never sees
  // one (small batches, trusted replays) never pays for their memory.
  #start(): void {
    for (let i = this.#workers.length; i < this.#threads; i++) {
      const w = new Worker(new URL('./verify-worker.mjs', import.meta.url), {
        workerData: { context: Buffer.from(SIGNATURE_CONTEXTS.event, 'utf8') },
      });
      w.unref();
      w.on('message', (m: { id: number; results: Uint8Array }) => {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        p?.resolve(m.results);
      });
      w.on('error', (e) => {
        for (const p of this.#pending.values()) p.reject(e);
        this.#pending.clear();
      });
      this.#workers.push(w);
    }
  }

  /** Worker threads this pool uses (started lazily). */
  get threads(): number {
    return this.#threads;
  }

  /** Verifies event signatures; result i is true when job i verifies. */
  async verify(jobs: readonly SignatureJob[]): Promise<boolean[]> {
    const n = jobs.length;
    if (n < this.#minParallel || this.#threads === 0) {
      return jobs.map((j) => verifyDigest(j.key, 'event', j.digest, j.signature));
    }
    this.#start();
    const parts = Math.min(this.#workers.length, Math.ceil(n / (this.#minParallel / 2)));
    const per = Math.ceil(n / parts);
    const chunks: Promise<Uint8Array>[] = [];
    for (let start = 0; start < n; start += per) {
      const end = Math.min(n, start + per);
      const buffer = new Uint8Array(new ArrayBuffer((end - start) * 128));
      for (let i = start; i < end; i++) {
        const j = jobs[i]!;
        const o = (i - start) * 128;
        // A malformed digest or signature cannot verify: leave zeros, which fail.
        if (j.digest.length === 32 && j.signature.length === 64) {
          buffer.set(j.key.publicKey, o);
          buffer.set(j.digest, o + 32);
          buffer.set(j.signature, o + 64);
        }
      }
      chunks.push(this.#run(buffer, end - start));
    }
    const results = await Promise.all(chunks);
    const out: boolean[] = [];
    for (const r of results) for (const v of r) out.push(v === 1);
    return out;
  }

  #run(buffer: Uint8Array<ArrayBuffer>, n: number): Promise<Uint8Array> {
    const id = this.#nextId++;
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, buffer: buffer.buffer, n }, [buffer.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#workers.length = 0;
  }
}
