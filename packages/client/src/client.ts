// The HTTP client of the ledger's API (/v1, see the standalone service's README). Every
// answer is validated; receipts are checked against the pinned log key and the hash of
// what was sent; checkpoints are opened with the pinned key only. A rotated log is pinned
// with `logKeys`: each key trusted for a window of tree sizes (ledger indexes for receipts). Failed requests are
// retried (network errors, 5xx, 429 with Retry-After) a bounded number of times, never on
// another 4xx: every request is idempotent (a resent event gets its original receipt).
import { parseVerifierKey, toHex } from '@civic-ledger/crypto';
import type { SignedEventWire } from '@civic-ledger/events';
import { decodeLeaf } from '@civic-ledger/leaf';
import { verifyReceipt, signedReceiptSchema, type SignedReceipt } from '@civic-ledger/receipts';
import type { VerifiedCheckpoint } from '@civic-ledger/signed-note';
import { hashLeaf } from '@civic-ledger/merkle';
import { z } from 'zod';
import { ClientError } from './errors.ts';
import { openPinnedCheckpoint, verifyEvidence } from './evidence.ts';
import { LogKeyRing, type LogKeyWindow } from './log-keys.ts';
import { prepareSigned, type PreparedEvent } from './prepare.ts';
import { backoffDelay, parseRetryAfter, retryOptionsSchema, sleep } from './retry.ts';
import type { Policy } from '@civic-ledger/witness';
import { isPolicy, loadClientPolicy, requirePolicyQuorum } from './witnesses.ts';
import {
  batchResponse,
  chainHeadSchema,
  consistencyProofSchema,
  entryPageSchema,
  entrySchema,
  errorBody,
  inclusionProofSchema,
  submitResponse,
  type ConsistencyProof,
  type Entry,
  type EntryPage,
  type InclusionEvidence,
  type InclusionProof,
  type RemoteChainHead,
} from './schemas.ts';

/** Most events the ledger takes in one batch request. */
export const MAX_BATCH = 1000;

export const clientOptionsSchema = z.strictObject({
  /** The ledger's address, e.g. http://127.0.0.1:8080 (the /v1 routes are below it). */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /**
   * The log's verifier key, C2SP text `<name>+<key id>+<base64>`, pinned out of band.
   * Exactly one of logKey, logKeys.
   */
  logKey: z.string().min(1).optional(),
  /**
   * A rotated log's keys, oldest first, each with its validity window over tree sizes
   * (inclusive; @civic-ledger/verifier's LogKeyWindow): checkpoints of size n open with the
   * keys whose window holds n, receipts for index i with the keys whose window holds i.
   */
  logKeys: z
    .custom<readonly LogKeyWindow[]>((v) => Array.isArray(v), 'an array of { key, fromSize?, untilSize? }')
    .optional(),
  /** The log's origin (checkpoint origin line); default: the (last) log key's name. */
  origin: z.string().min(1).optional(),
  /** Per attempt: a request unanswered after this long is abandoned (and retried). */
  timeoutMs: z.number().int().positive().default(10_000),
  retry: retryOptionsSchema.default(retryOptionsSchema.parse({})),
  /** Events per batch request (at most 1000); larger submissions are split. */
  batchSize: z.number().int().min(1).max(MAX_BATCH).default(MAX_BATCH),
  /** The fetch to use (default the global one): a proxy, instrumentation, tests. */
  fetch: z.custom<typeof fetch>((v) => typeof v === 'function', 'a fetch function').optional(),
  /**
   * A witness policy (c2sp.org/tlog-policy: the file's text or bytes, or a parsed Policy):
   * every checkpoint the client relies on must carry its quorum of cosignatures.
   */
  policy: z
    .union([z.string(), z.instanceof(Uint8Array), z.custom<Policy>(isPolicy, 'a parsed Policy')])
    .optional(),
  /** The same, read from a file. */
  policyFile: z.string().min(1).optional(),
});
export type LedgerClientOptions = z.input<typeof clientOptionsSchema>;

/** A receipt the client checked: signed by the pinned key, for this log, for the event sent. */
export interface Submitted {
  hash: string;
  receipt: SignedReceipt;
  /** The ledger already had the event: the receipt is the original one. */
  duplicate: boolean;
}

export type SubmitOutcome = ({ ok: true } & Submitted) | { ok: false; hash: string; error: ClientError };

export interface InclusionOptions {
  /**
   * How long to wait for a checkpoint covering the entry; default the receipt's
   * checkpointWithinMs (1000 without a receipt) plus 2000 ms of margin.
   */
  waitMs?: number;
  /** Between two looks at the latest checkpoint (default 100 ms). */
  pollMs?: number;
}

export interface InclusionVerified {
  /** Leaf, signed checkpoint and proof: checkable offline with verifyEvidence. */
  evidence: InclusionEvidence;
  /** The checkpoint the proof was checked against, opened with the pinned key. */
  checkpoint: VerifiedCheckpoint;
  /** With a witness policy: the witnesses (policy names) whose cosignatures it carries. */
  witnesses?: string[];
}

type Parsed<S extends z.ZodType> = z.infer<S>;

export class LedgerClient {
  readonly baseUrl: string;
  readonly origin: string;
  /** The pinned log key; with `logKeys`, the last (current) one. */
  readonly logKey: string;
  /** The pinned keys with their windows (one unbounded window for `logKey`). */
  readonly logKeys: readonly LogKeyWindow[];
  readonly batchSize: number;
  /** The witness policy checkpoints must satisfy (undefined: the log key alone). */
  readonly policy: Policy | undefined;
  readonly #keys: LogKeyRing;
  readonly #timeoutMs: number;
  readonly #retry: z.infer<typeof retryOptionsSchema>;
  readonly #fetch: typeof fetch;

  constructor(options: LedgerClientOptions) {
    const parsed = clientOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ClientError('INVALID_ARGUMENT', `options.${issue.path.join('.')}: ${issue.message}`, {
        details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), rule: i.message })) },
      });
    }
    const o = parsed.data;
    this.#keys = LogKeyRing.of(o, 'options.');
    this.logKey = this.#keys.current;
    this.logKeys = this.#keys.windows;
    this.origin = o.origin ?? parseVerifierKey(this.logKey).name;
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = o.timeoutMs;
    this.#retry = o.retry;
    this.batchSize = o.batchSize;
    this.#fetch = o.fetch ?? ((input, init) => fetch(input, init));
    this.policy = loadClientPolicy(o, { logKeys: this.logKeys, origin: this.origin });
  }

  // ---- transport

  /** One request with retries; resolves with the answer's text on 2xx, throws ClientError. */
  async #request(method: 'GET' | 'POST', path: string, body?: string): Promise<string> {
    const { attempts, maxRetryAfterMs } = this.#retry;
    for (let attempt = 1; ; attempt++) {
      let error: ClientError;
      let retryAfterMs: number | undefined;
      try {
        const res = await this.#fetch(`${this.baseUrl}${path}`, {
          method,
          headers: body === undefined ? { accept: '*/*' } : { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        const text = await res.text();
        if (res.ok) return text;
        error = errorOf(res.status, text, method, path);
        if (!(res.status >= 500 || res.status === 429)) throw error;
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) throw error;
      } catch (e) {
        if (e instanceof ClientError) throw e;
        error = new ClientError('NETWORK', `${method} ${path}: ${networkMessage(e)}`, { cause: e });
      }
      if (attempt >= attempts) {
        error.details['attempts'] = attempt;
        throw error;
      }
      await sleep(backoffDelay(attempt, this.#retry, retryAfterMs));
    }
  }

  async #json<S extends z.ZodType>(schema: S, method: 'GET' | 'POST', path: string, body?: string) {
    const text = await this.#request(method, path, body);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new ClientError('BAD_RESPONSE', `${method} ${path}: the answer is not JSON`, { cause });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ClientError(
        'BAD_RESPONSE',
        `${method} ${path}: unexpected answer at /${issue.path.join('/')}: ${issue.message}`,
      );
    }
    return parsed.data as Parsed<S>;
  }

  /**
   * Checks a receipt: signed by the pinned log key (with `logKeys`: by a key whose window holds
   * the receipt's index), for this log, for the event `hash`.
   */
  checkReceipt(receipt: SignedReceipt, hash: string): SignedReceipt {
    const parsed = signedReceiptSchema.safeParse(receipt);
    if (!parsed.success) throw new ClientError('BAD_RECEIPT', 'the receipt is malformed');
    const r = parsed.data;
    if (!this.#keys.receiptKeysAt(r.index).some((k) => verifyReceipt(k, r))) {
      const which =
        this.#keys.windows.length === 1 ? 'the pinned log key' : `a pinned log key valid at index ${r.index}`;
      throw new ClientError('BAD_RECEIPT', `the receipt is not signed by ${which}`, {
        details: { eventHash: r.eventHash, index: r.index },
      });
    }
    if (r.eventHash !== hash) {
      throw new ClientError('BAD_RECEIPT', `the receipt is for event ${r.eventHash}, not ${hash}`, {
        details: { eventHash: r.eventHash, expected: hash },
      });
    }
    if (r.logOrigin !== this.origin) {
      throw new ClientError('BAD_RECEIPT', `the receipt is from log ${r.logOrigin}, not ${this.origin}`);
    }
    return r;
  }

  // ---- submissions

  /** Submits one signed event (wire form, or prepared bytes); throws the ledger's refusal. */
  async submit(event: SignedEventWire | PreparedEvent): Promise<Submitted> {
    const p = isPrepared(event) ? event : prepareSigned(event);
    const r = await this.#json(submitResponse, 'POST', '/v1/events', p.body);
    return { hash: p.hash, receipt: this.checkReceipt(r.receipt, p.hash), duplicate: r.duplicate };
  }

  /**
   * Submits signed events in batch requests of `batchSize` (<= 1000), one after another;
   * each event gets an outcome (the ledger refuses events one by one). `atomic`: all or
   * none, only for one request's worth.
   */
  async submitBatch(
    events: readonly (SignedEventWire | PreparedEvent)[],
    options: { atomic?: boolean } = {},
  ): Promise<SubmitOutcome[]> {
    const prepared = events.map((e, i) => (isPrepared(e) ? e : prepareSigned(e, `events[${i}]`)));
    if (options.atomic && prepared.length > this.batchSize) {
      throw new ClientError('INVALID_ARGUMENT', `an atomic batch holds at most ${this.batchSize} events`);
    }
    const out: SubmitOutcome[] = [];
    for (let from = 0; from < prepared.length; from += this.batchSize) {
      const chunk = prepared.slice(from, from + this.batchSize);
      const body = `{"events":[${chunk.map((p) => p.body).join(',')}]${options.atomic ? ',"atomic":true' : ''}}`;
      const r = await this.#json(batchResponse, 'POST', '/v1/events/batch', body);
      if (r.results.length !== chunk.length) {
        throw new ClientError('BAD_RESPONSE', `${chunk.length} events sent, ${r.results.length} results`);
      }
      r.results.forEach((x, i) => {
        const hash = chunk[i]!.hash;
        if (x.ok) {
          out.push({ ok: true, hash, receipt: this.checkReceipt(x.receipt, hash), duplicate: x.duplicate });
        } else {
          // Per-event refusals carry the ledger's code; the request itself succeeded (200).
          out.push({
            ok: false,
            hash,
            error: new ClientError(x.error.code, x.error.message, { details: x.error.details }),
          });
        }
      });
    }
    return out;
  }

  // ---- entries

  /** The entry of an event hash (NOT_FOUND when it is not in the log). */
  getEvent(hash: string): Promise<Entry> {
    return this.#json(entrySchema, 'GET', `/v1/events/${checkHash(hash)}`);
  }

  /** The entry at a ledger index. */
  getEntry(index: number): Promise<Entry> {
    return this.#json(entrySchema, 'GET', `/v1/entries/${checkCount(index, 'index')}`);
  }

  /** One page of entries from `from` (limit 1..1000, default 100). */
  entries(from = 0, limit = 100): Promise<EntryPage> {
    return this.#json(
      entryPageSchema,
      'GET',
      `/v1/entries?from=${checkCount(from, 'from')}&limit=${checkCount(limit, 'limit')}`,
    );
  }

  /** Every entry from `from` on, page after page (the tree may grow meanwhile). */
  async *allEntries(from = 0, pageSize = 1000): AsyncGenerator<Entry> {
    let next: number | null = from;
    while (next !== null) {
      const page: EntryPage = await this.entries(next, pageSize);
      yield* page.entries;
      next = page.next;
    }
  }

  // ---- checkpoints and proofs

  /** The latest signed checkpoint, as the note text (unverified: see verifiedCheckpoint). */
  latestCheckpoint(): Promise<string> {
    return this.#request('GET', '/v1/checkpoint');
  }

  /** The signed checkpoint of a tree size (NOT_FOUND if the log signed none of that size). */
  checkpointAt(size: number): Promise<string> {
    return this.#request('GET', `/v1/checkpoints/${checkCount(size, 'size')}`);
  }

  /**
   * The latest checkpoint, opened with the pinned log key (CHECKPOINT_UNVERIFIED otherwise);
   * with a witness policy it must carry the quorum's cosignatures (QUORUM_NOT_MET otherwise).
   */
  async verifiedCheckpoint(): Promise<VerifiedCheckpoint & { note: string; witnesses?: string[] }> {
    const note = await this.latestCheckpoint();
    const cp = openPinnedCheckpoint(note, this.#keys, this.origin);
    if (this.policy === undefined) return { ...cp, note };
    return { ...cp, note, witnesses: requirePolicyQuorum(note, this.policy).witnesses };
  }

  /** Inclusion proof of an entry (by event hash or index) in a tree size (default: current). */
  inclusionProof(of: { hash: string } | { index: number }, size?: number): Promise<InclusionProof> {
    const q = 'hash' in of ? `hash=${checkHash(of.hash)}` : `index=${checkCount(of.index, 'index')}`;
    const s = size === undefined ? '' : `&size=${checkCount(size, 'size')}`;
    return this.#json(inclusionProofSchema, 'GET', `/v1/proofs/inclusion?${q}${s}`);
  }

  /** Consistency proof between two tree sizes (`to` default: current). */
  consistencyProof(from: number, to?: number): Promise<ConsistencyProof> {
    const t = to === undefined ? '' : `&to=${checkCount(to, 'to')}`;
    return this.#json(
      consistencyProofSchema,
      'GET',
      `/v1/proofs/consistency?from=${checkCount(from, 'from')}${t}`,
    );
  }

  /** The last event of an emitter's stream, or null when the chain has none. */
  async chainHead(emitter: string, stream: string): Promise<RemoteChainHead | null> {
    try {
      const head = await this.#json(
        chainHeadSchema,
        'GET',
        `/v1/chains/${encodeURIComponent(emitter)}/${encodeURIComponent(stream)}/head`,
      );
      if (head.emitter !== emitter || head.stream !== stream) {
        throw new ClientError(
          'BAD_RESPONSE',
          `asked for ${emitter}/${stream}, got ${head.emitter}/${head.stream}`,
        );
      }
      return head;
    } catch (e) {
      if (e instanceof ClientError && e.code === 'NOT_FOUND') return null;
      throw e;
    }
  }

  /**
   * Proves that an event is in the log: opens the latest checkpoint with the pinned key
   * (waiting, when it does not cover the entry yet, up to the receipt's checkpointWithinMs
   * plus a margin), fetches the entry and its inclusion proof at the checkpoint's size, and
   * checks them. Given a receipt, it is checked first and must match the entry.
   */
  async verifyInclusion(
    target: SignedReceipt | string,
    options: InclusionOptions = {},
  ): Promise<InclusionVerified> {
    let receipt: SignedReceipt | undefined;
    let eventHash: string;
    if (typeof target === 'string') {
      eventHash = checkHash(target);
    } else {
      receipt = this.checkReceipt(target, target.eventHash);
      eventHash = receipt.eventHash;
    }
    const entry = await this.getEvent(eventHash);
    let leaf;
    try {
      leaf = decodeLeaf(entry.leaf);
    } catch (cause) {
      throw new ClientError('PROOF_INVALID', 'the entry is not a well-formed log leaf', { cause });
    }
    const leafHash = toHex(hashLeaf(new TextEncoder().encode(entry.leaf)));
    if (leaf.eventHash !== eventHash) throw new ClientError('PROOF_INVALID', 'the entry holds another event');
    if (receipt && (receipt.index !== leaf.index || receipt.leafHash !== leafHash)) {
      throw new ClientError('PROOF_INVALID', 'the log entry is not the one the receipt names', {
        details: { receiptIndex: receipt.index, entryIndex: leaf.index },
      });
    }
    const index = leaf.index;
    const waitMs = options.waitMs ?? (receipt?.checkpointWithinMs ?? 1000) + 2000;
    const deadline = Date.now() + waitMs;
    let note: string | undefined;
    let size = 0;
    for (;;) {
      // A young log may have published no checkpoint yet (NOT_FOUND): not covered, so far.
      note = await this.latestCheckpoint().catch((e: unknown) => {
        if (e instanceof ClientError && e.code === 'NOT_FOUND') return undefined;
        throw e;
      });
      if (note !== undefined) {
        size = openPinnedCheckpoint(note, this.#keys, this.origin).size;
        // A checkpoint the ledger serves without the policy's quorum is refused at once.
        if (this.policy !== undefined) requirePolicyQuorum(note, this.policy);
        if (size > index) break;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ClientError('NOT_COVERED', `no checkpoint covers index ${index} after ${waitMs} ms`, {
          details: { index, size },
        });
      }
      await sleep(Math.min(options.pollMs ?? 100, left));
    }
    const proof = await this.inclusionProof({ hash: eventHash }, size);
    if (proof.index !== index || proof.size !== size || proof.leafHash !== leafHash) {
      throw new ClientError('PROOF_INVALID', 'the proof is for another entry or tree size', {
        details: { index: proof.index, size: proof.size },
      });
    }
    const evidence: InclusionEvidence = {
      eventHash,
      index,
      leafHash,
      leaf: entry.leaf,
      checkpoint: note,
      proof: proof.hashes,
    };
    const checkpoint = verifyEvidence(evidence, { verifier: this.#keys, origin: this.origin });
    if (this.policy === undefined) return { evidence, checkpoint };
    return { evidence, checkpoint, witnesses: requirePolicyQuorum(note, this.policy).witnesses };
  }
}

function isPrepared(e: SignedEventWire | PreparedEvent): e is PreparedEvent {
  return typeof (e as PreparedEvent).body === 'string' && typeof (e as PreparedEvent).hash === 'string';
}

function checkHash(hash: string): string {
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new ClientError('INVALID_ARGUMENT', 'an event hash is 64 lower-case hex digits');
  }
  return hash;
}

function checkCount(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ClientError('INVALID_ARGUMENT', `${what}: an integer >= 0`);
  return n;
}

function errorOf(status: number, text: string, method: string, path: string): ClientError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const e = errorBody.safeParse(body);
  if (e.success) return new ClientError(e.data.code, e.data.message, { status, details: e.data.details });
  return new ClientError('HTTP_ERROR', `${method} ${path}: HTTP ${status}`, { status });
}

function networkMessage(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'timed out';
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}
