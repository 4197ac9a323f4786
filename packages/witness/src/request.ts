// The wire formats of tlog-witness add-checkpoint (c2sp.org/tlog-witness):
//
//   request   old <size>\n            decimal, no leading zeros ("0" allowed)
//             <base64 hash>\n ...      0 to 63 consistency proof lines
//             \n                       an empty line
//             <signed checkpoint note>
//   200       — <name> <base64>\n ...  one or more cosignature lines
//   409       <size>\n                 Content-Type: text/x.tlog.size
import { fromBase64, toBase64 } from '@civic-ledger/crypto';
import { formatSignatureLine, parseNote, type NoteSignature } from '@civic-ledger/signed-note';
import { WitnessError } from './errors.ts';

/** The most consistency proof lines a request may carry (the spec's limit). */
export const MAX_PROOF_LINES = 63;
/** Default byte limit of a request body: 63 proof lines and a checkpoint with ~100 signatures fit. */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024;
/** Content type of a 409 body. */
export const TREE_SIZE_CONTENT_TYPE = 'text/x.tlog.size';

const SIZE = /^(?:0|[1-9][0-9]{0,15})$/;

export interface AddCheckpointRequest {
  /** The size of the previous checkpoint the client believes the witness cosigned. */
  readonly oldSize: number;
  /** RFC 6962 consistency proof from oldSize to the checkpoint's size (32-byte hashes). */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, as sent. */
  readonly checkpoint: string;
}

function malformed(message: string, cause?: unknown): WitnessError {
  return new WitnessError('MALFORMED_REQUEST', message, {}, cause === undefined ? undefined : { cause });
}

function parseSize(text: string, what: string): number {
  if (!SIZE.test(text)) throw malformed(`${what} is not a decimal size without leading zeros`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw malformed(`${what} is larger than 2^53 - 1`);
  return n;
}

function toText(body: string | Uint8Array, maxBytes: number): string {
  if (typeof body === 'string') {
    if (Buffer.byteLength(body, 'utf8') > maxBytes)
      throw malformed(`the body is larger than ${maxBytes} bytes`);
    return body;
  }
  if (!(body instanceof Uint8Array)) throw malformed('the body must be text');
  if (body.byteLength > maxBytes) throw malformed(`the body is larger than ${maxBytes} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch (cause) {
    throw malformed('the body is not UTF-8', cause);
  }
}

/**
 * Parses an add-checkpoint request body. The checkpoint is returned as text, unverified.
 * Throws MALFORMED_REQUEST (no old line, a size with leading zeros, a proof line that is not
 * the exact base64 of 32 bytes, more than 63 proof lines, no empty line, no checkpoint).
 */
export function parseAddCheckpointRequest(
  body: string | Uint8Array,
  options: { maxBytes?: number } = {},
): AddCheckpointRequest {
  const text = toText(body, options.maxBytes ?? DEFAULT_MAX_REQUEST_BYTES);
  // Header lines are never empty, so the first empty line ends them; the note (which has its
  // own blank line before the signatures) follows.
  const split = text.indexOf('\n\n');
  if (split < 0) throw malformed('no empty line between the proof and the checkpoint');
  const [oldLine, ...proofLines] = text.slice(0, split).split('\n') as [string, ...string[]];
  if (!oldLine.startsWith('old ')) throw malformed('the first line is not "old <size>"');
  const oldSize = parseSize(oldLine.slice(4), 'the old size');
  if (proofLines.length > MAX_PROOF_LINES) throw malformed(`more than ${MAX_PROOF_LINES} proof lines`);
  const proof = proofLines.map((line, i) => {
    let hash: Uint8Array;
    try {
      hash = fromBase64(line);
    } catch (cause) {
      throw malformed(`proof line ${i + 1} is not exact base64`, cause);
    }
    if (hash.length !== 32) throw malformed(`proof line ${i + 1} is not a 32-byte hash`);
    return hash;
  });
  const checkpoint = text.slice(split + 2);
  if (checkpoint === '') throw malformed('no checkpoint after the empty line');
  return { oldSize, proof, checkpoint };
}

/** The request body of an add-checkpoint call. */
export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  const { oldSize, proof, checkpoint } = request;
  if (!Number.isSafeInteger(oldSize) || oldSize < 0)
    throw malformed('the old size must be a non-negative integer');
  if (proof.length > MAX_PROOF_LINES) throw malformed(`more than ${MAX_PROOF_LINES} proof hashes`);
  for (const h of proof)
    if (!(h instanceof Uint8Array) || h.length !== 32) throw malformed('proof hashes are 32 bytes');
  if (typeof checkpoint !== 'string' || checkpoint === '') throw malformed('the checkpoint note is missing');
  return `old ${oldSize}\n${proof.map((h) => `${toBase64(h)}\n`).join('')}\n${checkpoint}`;
}

/**
 * Parses note signature lines (the 200 body): one or more `— <name> <base64>` lines, each
 * ending in a newline. Throws WITNESS_BAD_RESPONSE.
 */
export function parseSignatureLines(body: string): NoteSignature[] {
  if (typeof body !== 'string' || body === '' || !body.endsWith('\n') || body.includes('\n\n')) {
    throw new WitnessError(
      'WITNESS_BAD_RESPONSE',
      'the body is not one or more signature lines ending in a newline',
    );
  }
  try {
    // Reuse the signed-note parser on a dummy text: the same strict rules for each line.
    return [...parseNote(`x\n\n${body}`).signatures];
  } catch (cause) {
    throw new WitnessError(
      'WITNESS_BAD_RESPONSE',
      `bad signature line: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

/** Signature lines, each ending in a newline (the 200 body). */
export function formatSignatureLines(signatures: readonly NoteSignature[]): string {
  return signatures.map((s) => `${formatSignatureLine(s)}\n`).join('');
}

/** Parses a 409 body (`<size>\n`). Throws WITNESS_BAD_RESPONSE. */
export function parseTreeSizeBody(body: string): number {
  if (!body.endsWith('\n'))
    throw new WitnessError('WITNESS_BAD_RESPONSE', 'a tree size body ends in a newline');
  try {
    return parseSize(body.slice(0, -1), 'the tree size');
  } catch (cause) {
    throw new WitnessError('WITNESS_BAD_RESPONSE', (cause as Error).message, {}, { cause });
  }
}
