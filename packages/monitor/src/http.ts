// The monitor's reads over HTTP: the ledger's /v1 API and the witnesses' monitoring route.
// Everything read is untrusted: these functions only move bytes and check shapes; the
// monitor checks signatures, proofs and hashes itself.
import { fromBase64 } from '@civic-ledger/crypto';
import { httpSource, HttpSourceError, type LogSource, type SourceLeaf } from '@civic-ledger/verifier';
import { MonitorError } from './errors.ts';

export interface HttpOptions {
  /** Per-request timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Extra request headers (e.g. authorization for a proxy). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

interface Answer {
  status: number;
  text: string;
}

async function get(url: string, accept: string, o: HttpOptions): Promise<Answer> {
  const doFetch = o.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      headers: { accept, ...o.headers },
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
    });
  } catch (cause) {
    throw new MonitorError(
      'HTTP_NETWORK',
      `GET ${url} failed: ${(cause as Error).message}`,
      { url },
      { cause },
    );
  }
  try {
    return { status: res.status, text: await res.text() };
  } catch (cause) {
    throw new MonitorError('HTTP_NETWORK', `GET ${url}: reading the body failed`, { url }, { cause });
  }
}

function statusError(url: string, a: Answer): MonitorError {
  let code: string | undefined;
  try {
    const body = JSON.parse(a.text) as { code?: unknown };
    if (typeof body.code === 'string') code = body.code;
  } catch {
    // not a JSON error body
  }
  return new MonitorError(
    'HTTP_STATUS',
    `GET ${url} answered ${a.status}${code === undefined ? '' : ` ${code}`}`,
    { url, status: a.status, ...(code === undefined ? {} : { code }) },
  );
}

function json(url: string, a: Answer): Record<string, unknown> {
  try {
    const v = JSON.parse(a.text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new MonitorError('HTTP_BODY', `GET ${url}: the body is not a JSON object`, { url });
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const HEX64 = /^[0-9a-f]{64}$/;

function hashes(url: string, v: unknown): Uint8Array[] {
  if (!Array.isArray(v)) throw new MonitorError('HTTP_BODY', `GET ${url}: hashes is not an array`, { url });
  return v.map((h) => {
    const b = typeof h === 'string' ? safeBase64(h) : undefined;
    if (b === undefined || b.length !== 32)
      throw new MonitorError('HTTP_BODY', `GET ${url}: a proof hash is not base64 of 32 bytes`, { url });
    return b;
  });
}

function safeBase64(s: string): Uint8Array | undefined {
  try {
    return fromBase64(s);
  } catch {
    return undefined;
  }
}

/** One entry as the ledger serves it: the leaf text and what the server derived. */
export interface ServedEntry {
  index: number;
  leaf: string;
  eventHash: string;
  leafHash: string;
}

function entryOf(url: string, v: Record<string, unknown>): ServedEntry {
  const { index, leaf, eventHash, leafHash } = v;
  if (
    !isCount(index) ||
    typeof leaf !== 'string' ||
    typeof eventHash !== 'string' ||
    typeof leafHash !== 'string'
  )
    throw new MonitorError('HTTP_BODY', `GET ${url}: not an entry { index, leaf, eventHash, leafHash }`, {
      url,
    });
  return { index, leaf, eventHash, leafHash };
}

/** The standalone (and query service) read API under /v1. */
export class LedgerClient {
  readonly baseUrl: string;
  readonly #o: HttpOptions;
  readonly #base: URL;

  constructor(baseUrl: string, options: HttpOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#base = new URL(`${this.baseUrl}/`);
    this.#o = options;
  }

  #url(path: string): string {
    return new URL(path, this.#base).toString();
  }

  /** GET /v1/checkpoint: the latest signed checkpoint note. */
  async latestCheckpoint(): Promise<string> {
    const url = this.#url('v1/checkpoint');
    const a = await get(url, 'text/plain', this.#o);
    if (a.status !== 200) throw statusError(url, a);
    return a.text;
  }

  /** Signed checkpoints with from <= size <= to, ascending (GET /v1/checkpoints, paged). */
  async checkpoints(from: number, to: number): Promise<{ size: number; note: string }[]> {
    const out: { size: number; note: string }[] = [];
    let next: number | null = from;
    while (next !== null && next <= to) {
      const url = this.#url(`v1/checkpoints?from=${next}&limit=1000`);
      const a = await get(url, 'application/json', this.#o);
      if (a.status !== 200) throw statusError(url, a);
      const body = json(url, a);
      if (!Array.isArray(body['checkpoints']))
        throw new MonitorError('HTTP_BODY', `GET ${url}: not { checkpoints, next }`, { url });
      for (const c of body['checkpoints'] as unknown[]) {
        const o = c as Record<string, unknown>;
        if (typeof c !== 'object' || c === null || !isCount(o['size']) || typeof o['note'] !== 'string')
          throw new MonitorError('HTTP_BODY', `GET ${url}: a checkpoint is not { size, note }`, { url });
        if (o['size'] <= to) out.push({ size: o['size'], note: o['note'] });
      }
      const n = body['next'];
      if (n !== null && (!isCount(n) || n <= next))
        throw new MonitorError('HTTP_BODY', `GET ${url}: next does not move forward`, { url });
      next = n;
    }
    return out;
  }

  /**
   * A reader of leaves by range (the verifier's httpSource: paged, reading ahead of a
   * sequential reader). Errors are MonitorErrors.
   */
  leafReader(pageSize = 1000): Pick<LogSource, 'leaves'> {
    const source = httpSource(this.baseUrl, {
      pageSize,
      ...(this.#o.timeoutMs === undefined ? {} : { timeoutMs: this.#o.timeoutMs }),
      ...(this.#o.headers === undefined ? {} : { headers: this.#o.headers }),
      ...(this.#o.fetch === undefined ? {} : { fetch: this.#o.fetch }),
    });
    return {
      leaves: async (from: number, to: number): Promise<readonly SourceLeaf[]> => {
        try {
          return await source.leaves(from, to);
        } catch (e) {
          if (!(e instanceof HttpSourceError)) throw e;
          throw new MonitorError(
            e.code,
            e.message,
            { url: e.url, ...(e.status === undefined ? {} : { status: e.status }) },
            { cause: e },
          );
        }
      },
    };
  }

  /**
   * The consistency proof between two sizes; undefined when the ledger says it cannot give
   * one (a size beyond its tree: 400), so the caller can tell "refused" from "down".
   */
  async consistency(from: number, to: number): Promise<Uint8Array[] | undefined> {
    const url = this.#url(`v1/proofs/consistency?from=${from}&to=${to}`);
    const a = await get(url, 'application/json', this.#o);
    if (a.status === 400 || a.status === 404) return undefined;
    if (a.status !== 200) throw statusError(url, a);
    return hashes(url, json(url, a)['hashes']);
  }

  /** The inclusion proof of the entry at `index` in the tree of `size`; undefined if refused. */
  async inclusion(
    index: number,
    size: number,
  ): Promise<{ leafHash: string; hashes: Uint8Array[] } | undefined> {
    const url = this.#url(`v1/proofs/inclusion?index=${index}&size=${size}`);
    const a = await get(url, 'application/json', this.#o);
    if (a.status === 400 || a.status === 404) return undefined;
    if (a.status !== 200) throw statusError(url, a);
    const body = json(url, a);
    const leafHash = body['leafHash'];
    if (typeof leafHash !== 'string' || !HEX64.test(leafHash))
      throw new MonitorError('HTTP_BODY', `GET ${url}: no leafHash`, { url });
    return { leafHash, hashes: hashes(url, body['hashes']) };
  }

  /** The entry at a ledger index; undefined when the ledger has none (404). */
  async entry(index: number): Promise<ServedEntry | undefined> {
    const url = this.#url(`v1/entries/${index}`);
    const a = await get(url, 'application/json', this.#o);
    if (a.status === 404) return undefined;
    if (a.status !== 200) throw statusError(url, a);
    return entryOf(url, json(url, a));
  }

  /** The entry of an event hash; undefined when the ledger has none (404). */
  async entryByEventHash(hash: string): Promise<ServedEntry | undefined> {
    if (!HEX64.test(hash)) throw new RangeError('entryByEventHash: 64 lower-case hex digits');
    const url = this.#url(`v1/events/${hash}`);
    const a = await get(url, 'application/json', this.#o);
    if (a.status === 404) return undefined;
    if (a.status !== 200) throw statusError(url, a);
    return entryOf(url, json(url, a));
  }
}

/**
 * The latest checkpoint a witness cosigned for `origin` (GET <witness>/checkpoint/<origin>,
 * the tlog-witness monitoring route of services/witness); undefined when it has none (404).
 */
export async function fetchWitnessCheckpoint(
  witnessUrl: string,
  origin: string,
  options: HttpOptions = {},
): Promise<string | undefined> {
  const url = `${witnessUrl.replace(/\/+$/, '')}/checkpoint/${encodeURIComponent(origin)}`;
  const a = await get(url, 'text/plain', options);
  if (a.status === 404) return undefined;
  if (a.status !== 200) throw statusError(url, a);
  return a.text;
}
