// What `emit` and `register` share: the signing key, the SDK (client with the pinned log
// key or, for a rotated log, keys with windows, outbox in the state directory, emitter), event bodies from JSON, and turning the
// SDK's errors into exit codes.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import type { EventBody } from '@civic-ledger/client';
import type { SigningKey } from '@civic-ledger/crypto';
import { z } from 'zod';
import { nonEmpty } from '../args.ts';
import { loadConfigFile, requireUrl, resolveOrigin, resolveStateDir } from '../config.ts';
import { CliError, EXIT } from '../errors.ts';
import type { Io } from '../io.ts';
import {
  LOG_KEYS_HELP,
  LOG_KEYS_OPTIONS,
  logKeysFlagSchema,
  pinOf,
  pinnedKeys,
  type PinnedKeys,
} from '../log-keys.ts';
import { LOG_HELP, LOG_OPTIONS, ledgerFetch, logSchema } from './common.ts';

export const SUBMIT_OPTIONS = {
  ...LOG_OPTIONS,
  ...LOG_KEYS_OPTIONS,
  key: { type: 'string' },
  'state-dir': { type: 'string' },
  stream: { type: 'string' },
  time: { type: 'string' },
  'trace-id': { type: 'string' },
  json: { type: 'string' },
  inclusion: { type: 'boolean' },
  'discard-refused': { type: 'boolean' },
  output: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const submitSchema = {
  ...logSchema,
  ...logKeysFlagSchema,
  key: nonEmpty.optional(),
  'state-dir': nonEmpty.optional(),
  stream: nonEmpty.optional(),
  time: nonEmpty.optional(),
  'trace-id': nonEmpty.optional(),
  json: nonEmpty.optional(),
  inclusion: z.boolean().default(false),
  'discard-refused': z.boolean().default(false),
  output: z.enum(['text', 'json']).default('text'),
};

export const SUBMIT_HELP = `${LOG_HELP}
${LOG_KEYS_HELP}
  --key <file>            the private key file that signs (or "key" in the config file);
                          its name <org>/<label> decides the emitter
  --state-dir <dir>       where the outbox lives (default $CIVIC_LEDGER_STATE_DIR or
                          ~/.civic-ledger): every signed event is stored before it is sent
                          and resent after a crash, so a seq is never signed twice
  --stream <stream>       the emitter's stream (seq/prev are filled in from its chain)
  --time <rfc3339>        claimed time (default now)
  --trace-id <hex>        W3C trace id to join with your own logs
  --discard-refused       first drop a refused event that blocks the stream from the outbox
                          (a refusal of the event being sent is dropped automatically)
  --inclusion             also wait for a checkpoint and verify the inclusion proof
  --output text|json      json: { ok, eventHash, duplicate, receipt, event, inclusion? }`;

export type SubmitValues = z.output<z.ZodObject<typeof submitSchema>>;

/** Reads a JSON object from a file or `-` (stdin). */
export function readJsonArg(io: Io, arg: string, flag: string): Record<string, unknown> {
  let text: string;
  try {
    text = arg === '-' ? readFileSync(0, 'utf8') : readFileSync(resolve(io.cwd, arg), 'utf8');
  } catch (e) {
    throw new CliError('USAGE', `${flag}: cannot read ${arg}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CliError('USAGE', `${flag}: ${arg} is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError('USAGE', `${flag}: ${arg} must hold one JSON object (an event body)`);
  }
  return value as Record<string, unknown>;
}

const FILLED = ['emitter', 'seq', 'prev', 'key'] as const;

/** An event body from JSON: the members the SDK fills in must be absent (v may be 1). */
export function bodyFromJson(obj: Record<string, unknown>, flag: string): EventBody {
  const { v, ...rest } = obj;
  if (v !== undefined && v !== 1) throw new CliError('USAGE', `${flag}: "v" must be 1 (or absent)`);
  for (const m of FILLED) {
    if (m in rest) {
      throw new CliError(
        'USAGE',
        `${flag}: member "${m}" is filled in from the key and the chain; remove it (emitter, seq, prev and key are not yours to set here)`,
      );
    }
  }
  return rest as unknown as EventBody;
}

/** Drops flags that were not given, so the body only has what the user said. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;
}

interface ClientErrorLike {
  name: string;
  code: string;
  message: string;
  status?: number | undefined;
  details: Record<string, unknown>;
}

function isClientError(e: unknown): e is ClientErrorLike {
  return e instanceof Error && e.name === 'ClientError' && typeof (e as { code?: unknown }).code === 'string';
}

function isRetryable(e: ClientErrorLike): boolean {
  return (e as { retryable?: unknown }).retryable === true;
}

const SCHEMA_CODES = new Set([
  'SCHEMA_INVALID',
  'INVALID_JSON',
  'NOT_CANONICALIZABLE',
  'EVENT_TOO_LARGE',
  'EXT_TOO_LARGE',
  'TIME_IN_FUTURE',
]);
const VERIFY_CODES = new Set(['BAD_RECEIPT', 'CHECKPOINT_UNVERIFIED', 'PROOF_INVALID']);
const TRANSPORT_CODES = new Set(['NETWORK', 'HTTP_ERROR', 'BAD_RESPONSE']);

/**
 * The SDK's error as the CLI's: invalid events are usage errors naming the field (through
 * `fieldName`), unverifiable receipts and proofs are verification failures, the rest could
 * not be done (network, the ledger's refusal with its code).
 */
export function fromClientError(e: unknown, fieldName: (pointer: string) => string = (p) => p): unknown {
  if (!isClientError(e)) return e;
  // Refused for its content, here or by the ledger (a rule only the ledger checks): the
  // event as given is wrong, a usage error naming the field.
  if (e.code === 'INVALID_EVENT' || SCHEMA_CODES.has(e.code)) {
    const issues = (e.details['issues'] as { path: string; rule: string }[] | undefined) ?? [];
    const text = issues.length
      ? issues.map((i) => `${fieldName(i.path.replace(/^\/event/, '') || '/')}: ${i.rule}`).join('; ')
      : e.message;
    return new CliError('USAGE', `invalid event: ${text}`, { cause: e });
  }
  if (e.code === 'INVALID_ARGUMENT') return new CliError('USAGE', e.message, { cause: e });
  if (e.code === 'STREAM_BLOCKED') {
    return new CliError('REFUSED', `${e.message}; emit again with --discard-refused to drop it`, {
      cause: e,
    });
  }
  if (VERIFY_CODES.has(e.code))
    return new CliError('VERIFICATION_FAILED', `${e.code}: ${e.message}`, { cause: e });
  if (TRANSPORT_CODES.has(e.code))
    return new CliError('SERVER_ERROR', `${e.code}: ${e.message}`, { cause: e });
  const details = Object.keys(e.details).length ? ` ${JSON.stringify(e.details)}` : '';
  return new CliError(
    'REFUSED',
    `refused: ${e.code}${e.status === undefined ? '' : ` (HTTP ${e.status})`}: ${e.message}${details}`,
    { cause: e },
  );
}

async function readKey(file: string): Promise<SigningKey> {
  const { readSigningKeyFile, CryptoError } = await import('@civic-ledger/crypto');
  try {
    return readSigningKeyFile(file);
  } catch (e) {
    if (e instanceof CryptoError) throw new CliError('USAGE', `--key: ${e.message}`, { cause: e });
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? 'USAGE' : 'IO_ERROR',
      `--key: cannot read ${file}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

export interface SubmitContext {
  url: string;
  /** The pinned key, or a rotated log's keys (receipts are checked with the key valid at their index). */
  pinned: PinnedKeys;
  origin: string;
  key: SigningKey;
  stateDir: string;
}

export async function submitContext(io: Io, v: SubmitValues, command: string): Promise<SubmitContext> {
  const { config } = loadConfigFile(io, v.config);
  const url = requireUrl(v.url, config, command);
  const pinned = await pinnedKeys(io, v, config);
  const origin = resolveOrigin(v.origin, config, pinned.logKey);
  const keyFile = v.key === undefined ? config.key : resolve(io.cwd, v.key);
  if (keyFile === undefined) {
    throw new CliError('USAGE', '--key: required: the private key file that signs (see civic-ledger keygen)');
  }
  const key = await readKey(keyFile);
  const stateDir = resolveStateDir(io, v['state-dir'], config);
  return { url, pinned, origin, key, stateDir };
}

/**
 * Signs the body with the key (envelope filled in by the SDK from the chain), stores it in
 * the outbox, sends it, checks the receipt against the pinned log key, optionally proves
 * inclusion, prints the result.
 */
export async function submitBody(
  io: Io,
  v: SubmitValues,
  ctx: SubmitContext,
  body: EventBody,
  fieldName: (pointer: string) => string,
): Promise<number> {
  const { LedgerClient, Emitter } = await import('@civic-ledger/client');
  const full = {
    ...body,
    ...defined({ stream: v.stream, time: v.time, traceId: v['trace-id'] }),
  } as EventBody;
  let emitter;
  try {
    // --token: --inclusion reads the entry (auditor scope) when the ledger requires tokens.
    const client = new LedgerClient({
      baseUrl: ctx.url,
      ...pinOf(ctx.pinned),
      origin: ctx.origin,
      fetch: ledgerFetch(io, v, ctx.url),
    });
    emitter = await Emitter.open({
      client,
      key: ctx.key,
      stateDir: join(ctx.stateDir, 'outbox'),
      ...(v.stream === undefined ? {} : { stream: v.stream }),
    });
  } catch (e) {
    throw fromClientError(e, fieldName);
  }
  const stream = full.stream ?? emitter.stream;
  try {
    if (v['discard-refused']) {
      const n = emitter.outbox.discardRefused(emitter.org, stream);
      if (n > 0) io.err(`discarded ${n} refused event(s) of ${emitter.org}/${stream} from the outbox\n`);
    }
    let emitted;
    try {
      emitted = await emitter.emit(full);
    } catch (e) {
      // A definitive refusal of this event: drop it from the outbox so the stream is not
      // blocked and the corrected event can be signed at the same seq.
      if (isClientError(e) && e.code !== 'STREAM_BLOCKED' && !isRetryable(e)) {
        emitter.outbox.discardRefused(emitter.org, stream);
      }
      throw e;
    }
    emitter.outbox.prune();
    const inclusion = v.inclusion ? await emitter.outbox.client.verifyInclusion(emitted.receipt) : undefined;
    if (v.output === 'json') {
      io.out(
        `${JSON.stringify({
          ok: true,
          eventHash: emitted.hash,
          duplicate: emitted.duplicate,
          receipt: emitted.receipt,
          event: emitted.event,
          ...(inclusion === undefined ? {} : { inclusion: inclusion.evidence }),
        })}\n`,
      );
    } else {
      const r = emitted.receipt;
      const e = emitted.event;
      const lines = [
        `${emitted.duplicate ? 'already in the log (original receipt)' : 'accepted'}: event ${emitted.hash}`,
        `  ${e.type} by ${e.emitter} on stream ${e.stream}, seq ${e.seq}`,
        `  ledger index  ${r.index}`,
        `  leaf hash     ${r.leafHash}`,
        `  admitted      ${r.admitted}`,
        `  log           ${r.logOrigin}`,
        `  receipt       signature verified with the pinned log key`,
      ];
      if (inclusion) {
        lines.push(
          `  inclusion     verified in the signed checkpoint of size ${inclusion.checkpoint.size} (${inclusion.evidence.proof.length} proof hashes)`,
        );
      } else {
        lines.push(
          `  checkpoint    within ${r.checkpointWithinMs} ms (prove it: civic-ledger proof --hash ${emitted.hash})`,
        );
      }
      io.out(`${lines.join('\n')}\n`);
    }
    return EXIT.OK;
  } catch (e) {
    throw fromClientError(e, fieldName);
  } finally {
    emitter.close();
  }
}
