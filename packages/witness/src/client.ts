// The log's side of tlog-witness: ask a witness to cosign a checkpoint, and attach the
// cosignatures it returns to the checkpoint note.
import { formatNote, parseNote, type NoteLimits, type NoteSignature } from '@civic-ledger/signed-note';
import {
  parseCosignatureVerifierKey,
  verifyCosignature,
  type Cosignature,
  type CosignatureVerifier,
} from './cosignature.ts';
import { WitnessError, isWitnessError } from './errors.ts';
import { formatAddCheckpointRequest, parseSignatureLines, parseTreeSizeBody } from './request.ts';

/** Default time a witness gets to answer, connection included. */
export const DEFAULT_WITNESS_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface RequestCosignatureOptions {
  /** Abort after this many ms (default 10 s): WITNESS_TIMEOUT. */
  readonly timeoutMs?: number;
  /** The witness's cosignature verifier key (type 0x04, text or parsed). When given, only its
   * lines are kept and the first must verify; without it nothing is verified. */
  readonly witnessKey?: string | CosignatureVerifier;
  /** Aborts the request (e.g. the log is shutting down). */
  readonly signal?: AbortSignal;
  /** fetch to use (default globalThis.fetch). */
  readonly fetch?: typeof fetch;
}

export type CosignatureResponse =
  | {
      readonly status: 'cosigned';
      /** The cosignature lines: with witnessKey, only that key's (the first verified). */
      readonly signatures: readonly NoteSignature[];
      /** The verified cosignature (with witnessKey), else undefined. */
      readonly cosignature: Cosignature | undefined;
    }
  | {
      /** 409: the old size was not the witness's latest; retry from latestSize. */
      readonly status: 'conflict';
      readonly latestSize: number;
    };

async function readCapped(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new WitnessError(
        'WITNESS_BAD_RESPONSE',
        `the witness answered more than ${MAX_RESPONSE_BYTES} bytes`,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * POSTs `<url>/add-checkpoint` (url: the witness's submission prefix) with the old size, the
 * consistency proof and the signed checkpoint note. Returns the cosignature lines (200) or
 * the witness's latest size (409). Throws WITNESS_TIMEOUT, WITNESS_UNREACHABLE,
 * WITNESS_REFUSED (any other status; `details.status`, `details.body`), WITNESS_BAD_RESPONSE,
 * and, with witnessKey, COSIGNATURE_INVALID / MALFORMED_COSIGNATURE.
 */
export async function requestCosignature(
  url: string,
  oldSize: number,
  proof: readonly Uint8Array[],
  checkpoint: string,
  options: RequestCosignatureOptions = {},
): Promise<CosignatureResponse> {
  const body = formatAddCheckpointRequest({ oldSize, proof, checkpoint });
  const key =
    typeof options.witnessKey === 'string'
      ? parseCosignatureVerifierKey(options.witnessKey)
      : options.witnessKey;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const endpoint = `${url.replace(/\/+$/, '')}/add-checkpoint`;
  let status: number;
  let text: string;
  let contentType: string;
  try {
    const response = await (options.fetch ?? fetch)(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body,
      signal,
    });
    status = response.status;
    contentType = response.headers.get('content-type') ?? '';
    text = await readCapped(response);
  } catch (cause) {
    if (isWitnessError(cause)) throw cause;
    if (timeout.aborted) {
      throw new WitnessError(
        'WITNESS_TIMEOUT',
        `${endpoint} did not answer within ${options.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS} ms`,
        { url: endpoint },
        { cause },
      );
    }
    throw new WitnessError(
      'WITNESS_UNREACHABLE',
      `${endpoint}: ${(cause as Error).message}`,
      { url: endpoint },
      { cause },
    );
  }

  if (status === 409) {
    if (!contentType.toLowerCase().startsWith('text/x.tlog.size')) {
      throw new WitnessError(
        'WITNESS_BAD_RESPONSE',
        `409 without Content-Type text/x.tlog.size (${contentType})`,
        {
          url: endpoint,
          status,
          body: text.slice(0, 512),
        },
      );
    }
    return { status: 'conflict', latestSize: parseTreeSizeBody(text) };
  }
  if (status !== 200) {
    throw new WitnessError('WITNESS_REFUSED', `${endpoint} answered ${status}`, {
      url: endpoint,
      status,
      body: text.slice(0, 512),
    });
  }
  const lines = parseSignatureLines(text);
  if (key === undefined) return { status: 'cosigned', signatures: lines, cosignature: undefined };
  // The spec: ignore cosignatures from unknown keys.
  const mine = lines.filter((s) => s.name === key.name && s.keyId === key.keyId);
  const first = mine[0];
  if (first === undefined) {
    throw new WitnessError(
      'WITNESS_BAD_RESPONSE',
      `no cosignature by ${key.name}+${key.keyIdHex} in the answer`,
      {
        url: endpoint,
      },
    );
  }
  const cosignature = verifyCosignature(parseNote(checkpoint).text, first, key);
  return { status: 'cosigned', signatures: [first], cosignature };
}

/**
 * The note with `signatures` added after its own (a signature with the same key name and key
 * id as one already there replaces it). Throws signed-note's errors for a malformed note.
 */
export function addSignatures(
  note: string,
  signatures: readonly NoteSignature[],
  limits?: NoteLimits,
): string {
  const parsed = parseNote(note, limits);
  const id = (s: NoteSignature) => `${s.keyId}:${s.name}`;
  const replaced = new Set(signatures.map(id));
  return formatNote(
    {
      text: parsed.text,
      signatures: [...parsed.signatures.filter((s) => !replaced.has(id(s))), ...signatures],
    },
    limits,
  );
}
