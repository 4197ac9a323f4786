// JSON Lines in bounded memory: a writer that hashes what it writes, a line reader, and a
// digest pass (SHA-256, bytes, lines). A line is the RFC 8785 canonical JSON of one object
// followed by LF; readers re-canonicalize to refuse anything else (duplicate or unknown
// members, other spellings), so every implementation reads the same values.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { canonicalize } from '@civic-ledger/canonical-json';
import type { z } from 'zod';

const FLUSH_BYTES = 1 << 20;
const LF = 0x0a;

export interface FileSummary {
  sha256: string;
  bytes: number;
  lines: number;
}

/** Appends lines to a new file (refused if it exists), hashing them as they go. */
export class JsonlWriter {
  readonly #fh: FileHandle;
  readonly #hash = createHash('sha256');
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #bytes = 0;
  #lines = 0;

  private constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  static async create(path: string): Promise<JsonlWriter> {
    return new JsonlWriter(await open(path, 'wx'));
  }

  /** Writes the canonical JSON of `value` and a LF. */
  async write(value: unknown): Promise<void> {
    const buf = Buffer.from(`${canonicalize(value)}\n`, 'utf8');
    this.#hash.update(buf);
    this.#bytes += buf.length;
    this.#lines++;
    this.#pending.push(buf);
    this.#pendingBytes += buf.length;
    if (this.#pendingBytes >= FLUSH_BYTES) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const chunk = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#fh.write(chunk);
  }

  /** Flushes, syncs and closes; the file's digest. */
  async close(): Promise<FileSummary> {
    try {
      await this.#flush();
      await this.#fh.sync();
    } finally {
      await this.#fh.close();
    }
    return { sha256: this.#hash.digest('hex'), bytes: this.#bytes, lines: this.#lines };
  }

  /** Closes without caring about the content (after a failure). */
  async abandon(): Promise<void> {
    await this.#fh.close().catch(() => undefined);
  }
}

/** The lines of a file (bytes without the LF), in order; a last line without LF too. */
export async function* readLines(path: string): AsyncGenerator<Buffer> {
  let rest: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: FLUSH_BYTES }) as AsyncIterable<Buffer>) {
    let start = 0;
    let buf = chunk;
    if (rest !== undefined) {
      buf = Buffer.concat([rest, chunk]);
      rest = undefined;
    }
    for (let lf = buf.indexOf(LF, start); lf >= 0; lf = buf.indexOf(LF, start)) {
      yield buf.subarray(start, lf);
      start = lf + 1;
    }
    if (start < buf.length) rest = Buffer.from(buf.subarray(start));
  }
  if (rest !== undefined) yield rest;
}

/** SHA-256, size and line count of a file, and whether it ends with LF (or is empty). */
export async function digestFile(path: string): Promise<FileSummary & { terminated: boolean }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  let last = LF;
  for await (const chunk of createReadStream(path, { highWaterMark: FLUSH_BYTES }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  return { sha256: hash.digest('hex'), bytes, lines, terminated: last === LF };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export type LineResult<T> = { ok: true; value: T } | { ok: false; why: string };

/**
 * Parses one line against `schema`: valid UTF-8, JSON, accepted by the schema, and exactly
 * the canonical JSON of what it holds (no duplicate or unknown members, no other spelling).
 */
export function parseLine<T extends z.ZodType>(line: Uint8Array, schema: T): LineResult<z.infer<T>> {
  let text: string;
  let value: unknown;
  try {
    text = decoder.decode(line);
  } catch {
    return { ok: false, why: 'not UTF-8' };
  }
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, why: `not JSON: ${(e as Error).message}` };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, why: `/${issue.path.map(String).join('/')}: ${issue.message}` };
  }
  let canonical: string;
  try {
    canonical = canonicalize(parsed.data);
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
  if (canonical !== text) return { ok: false, why: 'not the canonical JSON (RFC 8785) of its members' };
  return { ok: true, value: parsed.data as z.infer<T> };
}
