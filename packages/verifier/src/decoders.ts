// Where chunks are decoded: worker threads (decode-worker.ts), or the calling thread. Each
// decoder is fed the key hints it has not seen yet with every chunk.
import type { Worker } from 'node:worker_threads';
import { SIGNATURE_CONTEXTS } from '@civic-ledger/crypto';
import { startWorker } from '@civic-ledger/worker-thread';
import {
  applyChecks,
  ChunkDecoder,
  packLeaves,
  verifyRecords,
  STATUS_REFERENCE,
  STRINGS_PER_LEAF,
  type ChunkOutput,
  type KeyHint,
} from './chunk.ts';
import type { WorkerReader } from './sources.ts';

/** One signature to check: 32-byte public key, 32-byte event hash, 64-byte signature. */
export interface SignatureCheck {
  publicKey: Uint8Array;
  digest: Uint8Array;
  signature: Uint8Array;
}

interface Pending {
  resolve: (value: never) => void;
  reject: (e: Error) => void;
}

// The context string of event signatures, from the package that defines it, handed to
// every decoder (worker threads do not load @civic-ledger/crypto).
const CONTEXT = new Uint8Array(Buffer.from(SIGNATURE_CONTEXTS.event, 'utf8'));

function packChecks(checks: readonly SignatureCheck[]): Uint8Array {
  const data = new Uint8Array(checks.length * 128);
  checks.forEach((c, i) => {
    // A malformed part cannot verify: zeros fail.
    if (c.publicKey.length === 32 && c.digest.length === 32 && c.signature.length === 64) {
      data.set(c.publicKey, i * 128);
      data.set(c.digest, i * 128 + 32);
      data.set(c.signature, i * 128 + 64);
    }
  });
  return data;
}

export class Decoders {
  readonly #workers: Worker[] = [];
  readonly #inline: ChunkDecoder | undefined;
  readonly #pending = new Map<number, Pending>();
  /** Per decoder: how many of the key hints it has been sent. */
  readonly #cursor: number[];
  #nextId = 1;
  #next = 0;
  /** Jobs posted to each worker and not answered yet. */
  #outstanding: number[] = [];
  #failure: Error | undefined;
  readonly #options: { fingerprintKey: Uint8Array; checkSignatures: boolean; context: Uint8Array };
  /** Decodes on the calling thread what a failed worker could not (and all after it). */
  #rescue: { decoder: ChunkDecoder; cursor: number } | undefined;

  constructor(options: { threads: number; fingerprintKey: Uint8Array; checkSignatures: boolean }) {
    const { threads, fingerprintKey, checkSignatures } = options;
    this.#options = { fingerprintKey, checkSignatures, context: CONTEXT };
    if (threads === 0) this.#inline = new ChunkDecoder(this.#options);
    const entry = new URL('./decode-worker.ts', import.meta.url);
    const workerData = { fingerprintKey, checkSignatures, context: CONTEXT };
    for (let i = 0; i < threads; i++) {
      const w = startWorker(entry, workerData);
      w.unref();
      type Posted = Omit<ChunkOutput, 'strings'> & { text: string };
      const index = this.#workers.length;
      w.on('message', (m: { id: number; output?: Posted; results?: Uint8Array; error?: string }) => {
        this.#outstanding[index]!--;
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(`verifier worker: ${m.error}`));
        else if (m.output) {
          const { text, ...rest } = m.output;
          const strings = text.split('\n');
          // A line feed inside a field (no schema allows one today) would shift the rest:
          // then nothing of the chunk is taken from the fast path.
          if (strings.length !== STRINGS_PER_LEAF * rest.count) rest.status.fill(STATUS_REFERENCE);
          p?.resolve({ ...rest, strings } as never);
        } else p?.resolve(m.results as never);
      });
      w.on('error', (e) => this.#fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.#fail(new Error(`verifier worker exited with code ${code}`));
      });
      this.#workers.push(w);
      this.#outstanding.push(0);
    }
    this.#cursor = new Array<number>(Math.max(1, threads)).fill(0);
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  get threads(): number {
    return this.#workers.length;
  }

  #post<T>(d: number, message: object, transfer: ArrayBuffer[]): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: never) => void, reject });
      this.#outstanding[d]!++;
      this.#workers[d]!.postMessage({ id, ...message }, transfer);
    });
  }

  /**
   * The worker for the next chunk: the one with the fewest jobs outstanding (the first in
   * turn among equals). Chunks differ in cost (signatures, key events), and the replay
   * takes them in order: a worker given chunks in strict turn would wait idle behind a
   * slower one's queue.
   */
  #pick(): number {
    const k = this.#workers.length;
    let best = this.#next % k;
    for (let i = 1; i < k; i++) {
      const d = (this.#next + i) % k;
      if (this.#outstanding[d]! < this.#outstanding[best]!) best = d;
    }
    this.#next = best + 1;
    return best;
  }

  /** Decodes the leaves at positions from, from + 1, ... on the next decoder in turn. */
  decode(from: number, leaves: readonly Uint8Array[], hints: readonly KeyHint[]): Promise<ChunkOutput> {
    const d = this.#workers.length === 0 ? 0 : this.#pick();
    const input = packLeaves(from, leaves, hints.slice(this.#cursor[d]));
    this.#cursor[d] = hints.length;
    if (this.#inline) {
      try {
        return Promise.resolve(this.#inline.decode(input));
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    // A worker that fails (cannot start in this runtime, runs out of memory) costs speed,
    // not the run: its chunks are decoded here, by the same code.
    return this.#post<ChunkOutput>(d, { input }, [input.bytes.buffer as ArrayBuffer]).catch(() =>
      this.#rescued(from, leaves, hints),
    );
  }

  /**
   * Has the next worker in turn read the leaves at positions [from, to) from `reader` and
   * decode them (see decodeRows). Rejects if there is no worker or it cannot read them:
   * the caller then reads them itself and calls `decodeHere`.
   */
  decodeRange(
    from: number,
    to: number,
    reader: WorkerReader,
    hints: readonly KeyHint[],
  ): Promise<ChunkOutput> {
    if (this.#workers.length === 0) return Promise.reject(new Error('no worker threads'));
    const d = this.#pick();
    const keys = hints.slice(this.#cursor[d]);
    this.#cursor[d] = hints.length;
    return this.#post<ChunkOutput>(d, { read: { path: reader.path, from, to, keys } }, []);
  }

  /**
   * Decodes on the calling thread and has the workers check the chunk's signatures (with
   * the key hints, as a worker decoding it would): the workers do nothing but Ed25519, in
   * tight loops, while this thread decodes the next chunks. The output is complete when
   * the checks are.
   */
  decodeHereCheckThere(
    from: number,
    leaves: readonly Uint8Array[],
    hints: readonly KeyHint[],
  ): Promise<ChunkOutput> {
    let out: ChunkOutput;
    try {
      out = this.#rescued(from, leaves, hints, true);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const d = out.deferred!;
    return this.#checkRecords(d.records, d.leaves.length).then((results) => applyChecks(out, results));
  }

  /** Decodes on the calling thread (what a worker could not read or decode). */
  decodeHere(from: number, leaves: readonly Uint8Array[], hints: readonly KeyHint[]): ChunkOutput {
    return this.#rescued(from, leaves, hints);
  }

  /** Decodes on the calling thread's decoder, given the hints it has not seen yet. */
  #rescued(
    from: number,
    leaves: readonly Uint8Array[],
    hints: readonly KeyHint[],
    defer = false,
  ): ChunkOutput {
    this.#rescue ??= { decoder: new ChunkDecoder(this.#options), cursor: 0 };
    const input = packLeaves(from, leaves, hints.slice(this.#rescue.cursor));
    this.#rescue.cursor = hints.length;
    return this.#rescue.decoder.decode(input, defer);
  }

  /** Checks signatures, split across the workers (on the calling thread without workers). */
  async verify(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    return [...(await this.#checkRecords(packChecks(checks), checks.length))].map((r) => r === 1);
  }

  /**
   * Checks `n` signature records (128 bytes each: key, digest, signature) split across the
   * workers, least loaded first; on the calling thread without workers or when one fails.
   * Resolves with 1 (valid) or 0 per record, in order.
   */
  async #checkRecords(records: Uint8Array, n: number): Promise<Uint8Array> {
    const here = () => verifyRecords(CONTEXT, records, n);
    if (n === 0 || this.#workers.length === 0 || this.#failure) return here();
    const parts = Math.min(this.#workers.length, Math.ceil(n / 16));
    const per = Math.ceil(n / parts);
    const runs: Promise<Uint8Array>[] = [];
    for (let start = 0; start < n; start += per) {
      const data = records.slice(128 * start, 128 * Math.min(n, start + per));
      runs.push(
        this.#post(this.#pick(), { verify: data, n: data.length / 128 }, [data.buffer as ArrayBuffer]),
      );
    }
    let results: Uint8Array[];
    try {
      results = await Promise.all(runs);
    } catch {
      return here();
    }
    const all = new Uint8Array(n);
    let o = 0;
    for (const r of results) {
      all.set(r, o);
      o += r.length;
    }
    return all;
  }

  async close(): Promise<void> {
    const workers = this.#workers.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
