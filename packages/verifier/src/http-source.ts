// A LogSource over the standalone service's HTTP API. Everything it returns is untrusted:
// it only moves bytes, the verifier checks them. Sequential reads (what verifyLog does)
// keep a few entry pages in flight ahead of the reader, so network latency overlaps
// verification; other reads fetch just what they ask for.
import { parseCheckpoint, parseNote } from '@civic-ledger/signed-note';
import type { LogSource, SourceLeaf } from './sources.ts';

export type HttpSourceErrorCode = 'HTTP_STATUS' | 'HTTP_NETWORK' | 'HTTP_BODY';

/** A request that failed: the URL, and the status when the server answered. */
export class HttpSourceError extends Error {
  override readonly name = 'HttpSourceError';
  readonly code: HttpSourceErrorCode;
  readonly url: string;
  readonly status: number | undefined;
  constructor(
    code: HttpSourceErrorCode,
    url: string,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.url = url;
    this.status = options.status;
  }
}

export interface HttpSourceOptions {
  /**
   * How far to verify: `checkpoint` (default) the latest signed checkpoint's size (from
   * `GET /v1/checkpoint.json`), so the run ends on a checkpoint; `head` the tree size the
   * first entries page reports, including entries not yet covered by a checkpoint.
   */
  until?: 'checkpoint' | 'head';
  /** Entries per request (1..1000, the server's limit; default 1000). */
  pageSize?: number;
  /** Pages requested ahead of a sequential reader (default 4). */
  prefetch?: number;
  /** Per-request timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Extra request headers (e.g. authorization for a proxy). */
  headers?: Record<string, string>;
  /** The fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
}

interface Page {
  from: number;
  leaves: SourceLeaf[];
}

interface PendingPage {
  from: number;
  limit: number;
  promise: Promise<Page>;
}

const encoder = new TextEncoder();

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A source over `GET /v1/entries`, `/v1/checkpoint.json` and `/v1/checkpoints` of `baseUrl`. */
export function httpSource(baseUrl: string | URL, options: HttpSourceOptions = {}): LogSource {
  const base = new URL(String(baseUrl).replace(/\/*$/, '/'));
  const doFetch = options.fetch ?? globalThis.fetch;
  const pageSize = Math.min(1000, Math.max(1, Math.floor(options.pageSize ?? 1000)));
  const prefetch = Math.max(0, Math.floor(options.prefetch ?? 4));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const until = options.until ?? 'checkpoint';

  async function getJson(path: string): Promise<unknown> {
    const url = new URL(path, base).toString();
    let res: Response;
    try {
      res = await doFetch(url, {
        headers: { accept: 'application/json', ...options.headers },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new HttpSourceError('HTTP_NETWORK', url, `GET ${url} failed: ${(cause as Error).message}`, {
        cause,
      });
    }
    const text = await res.text().catch((cause: unknown) => {
      throw new HttpSourceError('HTTP_NETWORK', url, `GET ${url}: reading the body failed`, {
        status: res.status,
        cause,
      });
    });
    if (!res.ok) {
      // The service's error body names the code; show it when there is one.
      let detail = '';
      try {
        const body = JSON.parse(text) as unknown;
        if (isObject(body) && typeof body['code'] === 'string')
          detail = `: ${body['code']} ${String(body['message'] ?? '')}`;
      } catch {
        detail = text === '' ? '' : `: ${text.slice(0, 200)}`;
      }
      throw new HttpSourceError('HTTP_STATUS', url, `GET ${url} answered ${res.status}${detail}`, {
        status: res.status,
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new HttpSourceError('HTTP_BODY', url, `GET ${url}: the body is not JSON`, {
        status: res.status,
        cause,
      });
    }
  }

  function bad(path: string, what: string): never {
    const url = new URL(path, base).toString();
    throw new HttpSourceError('HTTP_BODY', url, `GET ${url}: ${what}`);
  }

  let headSize: number | undefined;

  async function fetchPage(from: number, limit: number): Promise<Page> {
    const path = `v1/entries?from=${from}&limit=${limit}`;
    const body = await getJson(path);
    if (!isObject(body) || !Array.isArray(body['entries']) || !isCount(body['size']))
      bad(path, 'not an entries page { from, size, entries, next }');
    headSize ??= body['size'];
    const leaves = body['entries'].map((e, k): SourceLeaf => {
      if (!isObject(e) || typeof e['leaf'] !== 'string' || !isCount(e['index']))
        bad(path, `entry ${k} is not { index, leaf, eventHash }`);
      // index and eventHash are what the server derived: the verifier cross-checks them.
      const leaf: SourceLeaf = { leaf: encoder.encode(e['leaf']), index: e['index'] };
      if (typeof e['eventHash'] === 'string') leaf.eventHash = e['eventHash'];
      return leaf;
    });
    return { from, leaves };
  }

  // The size this source reports, fixed at the first call; known once resolved (prefetch
  // never reads past it).
  let sizeSnapshot: Promise<number> | undefined;
  let knownSize: number | undefined;
  const size = (): Promise<number> =>
    (sizeSnapshot ??= (async () => {
      if (until === 'head') {
        // The first page is needed anyway: keep it queued for the reader.
        if (queue.length === 0) queue.push(startPage(0, pageSize));
        await queue[0]!.promise;
        return (knownSize = headSize!);
      }
      const body = await getJson('v1/checkpoint.json');
      if (!isObject(body) || typeof body['note'] !== 'string')
        bad('v1/checkpoint.json', 'not { origin, size, rootHash, note }');
      // The size the note itself states (the JSON's `size` is a copy of it).
      try {
        return (knownSize = parseCheckpoint(parseNote(body['note']).text).size);
      } catch (cause) {
        return bad('v1/checkpoint.json', `the note is not a checkpoint: ${(cause as Error).message}`);
      }
    })());

  // Pages requested, contiguous; the first starts where the next read is expected.
  let queue: PendingPage[] = [];
  // Where the last read ended (undefined before the first).
  let cursor: number | undefined;

  function startPage(from: number, limit: number): PendingPage {
    const promise = fetchPage(from, limit);
    // A page read ahead that fails is reported when (if) a read gets to it.
    promise.catch(() => undefined);
    return { from, limit, promise };
  }

  return {
    size,

    async leaves(from, to) {
      const out: SourceLeaf[] = [];
      if (!(to > from)) return out;
      // A read that continues the previous one is a scan: read ahead of it.
      const sequential = from === cursor;
      if (queue[0] !== undefined && queue[0].from !== from) queue = [];
      // Every page this read needs is started at once (queued ones are on their way).
      const tail = queue.at(-1);
      let end = tail ? tail.from + tail.limit : from;
      while (end < to) {
        const limit = sequential ? pageSize : Math.min(pageSize, to - end);
        queue.push(startPage(end, limit));
        end += limit;
      }
      if (sequential && knownSize !== undefined) {
        const needed = queue.filter((p) => p.from < to).length;
        while (queue.length < needed + prefetch && end < knownSize) {
          const limit = Math.min(pageSize, knownSize - end);
          queue.push(startPage(end, limit));
          end += limit;
        }
      }
      let pos = from;
      while (pos < to && queue.length > 0) {
        const pending = queue.shift()!;
        const page = await pending.promise;
        const take = Math.min(page.leaves.length, to - pos);
        for (let k = 0; k < take; k++) out.push(page.leaves[k]!);
        pos += take;
        if (take < page.leaves.length) {
          // The rest of the page stays first in the queue for the next read.
          const rest: Page = { from: pos, leaves: page.leaves.slice(take) };
          queue.unshift({ from: pos, limit: rest.leaves.length, promise: Promise.resolve(rest) });
          break;
        }
        if (page.leaves.length < pending.limit) {
          // A short page: the server has no more (or hides some): the verifier reports it.
          queue = [];
          break;
        }
      }
      cursor = pos;
      return out;
    },

    async checkpoints() {
      const n = await size();
      const notes: string[] = [];
      let from: number | null = 0;
      while (from !== null && from <= n) {
        const path = `v1/checkpoints?from=${from}&limit=1000`;
        const body = await getJson(path);
        if (!isObject(body) || !Array.isArray(body['checkpoints']))
          bad(path, 'not a checkpoint page { checkpoints, next }');
        for (const c of body['checkpoints']) {
          if (!isObject(c) || !isCount(c['size']) || typeof c['note'] !== 'string')
            bad(path, 'a checkpoint is not { size, note }');
          // Checkpoints signed after the size snapshot are beyond what this run reads.
          if (c['size'] <= n) notes.push(c['note']);
        }
        const next: unknown = body['next'];
        if (next !== null && (!isCount(next) || next <= from)) bad(path, '`next` does not move forward');
        from = next;
      }
      return notes;
    },
  };
}
