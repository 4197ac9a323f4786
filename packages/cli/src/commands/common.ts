// Flags and checks several commands share.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { nonEmpty, urlFlag, verifierKeyFlag } from '../args.ts';
import { CliError, usage } from '../errors.ts';
import type { Io } from '../io.ts';

/** --config, --url, --log-key, --origin, --token: how to reach and trust a log. */
export const LOG_OPTIONS = {
  config: { type: 'string' },
  url: { type: 'string' },
  'log-key': { type: 'string' },
  origin: { type: 'string' },
  token: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const logSchema = {
  config: nonEmpty.optional(),
  url: urlFlag.optional(),
  'log-key': verifierKeyFlag.optional(),
  origin: nonEmpty.optional(),
  token: nonEmpty.optional(),
};

export const LOG_HELP = `  --url <url>             the ledger's base URL, e.g. http://127.0.0.1:8080
  --log-key <key>         the log's verifier key text, pinned: get it from the operator out of
                          band (it is never taken from the server)
  --origin <origin>       the log's origin line (default: the log key's name)
  --token <file>          a file holding a bearer token for the ledger's non-public routes
                          (entries, events, lineage; 'civic-ledger token issue'); default: the
                          token in $CIVIC_LEDGER_TOKEN, if set. Sent to --url only
  --config <file>         config file (default ./civic-ledger.json when present)`;

export const jsonSchema = z.boolean().default(false);

/** The environment variable holding a bearer token (the token itself) when --token is not given. */
export const TOKEN_ENV = 'CIVIC_LEDGER_TOKEN';

/** A JWS compact token: three base64url parts (the server checks the rest). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The bearer token for the ledger: the file named by --token (relative to the working
 * directory; its one line), else $CIVIC_LEDGER_TOKEN, else undefined (public routes only).
 * A token is never printed, not even in an error.
 */
export function readToken(io: Io, values: { token?: string | undefined }): string | undefined {
  let token: string;
  let from: string;
  if (values.token !== undefined) {
    const file = resolve(io.cwd, values.token);
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new CliError(
        'USAGE',
        `--token: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        {
          cause: e,
        },
      );
    }
    from = `--token: ${file}`;
  } else {
    const env = io.env[TOKEN_ENV]?.trim();
    if (env === undefined || env === '') return undefined;
    token = env;
    from = `$${TOKEN_ENV}`;
  }
  if (!TOKEN_SHAPE.test(token))
    throw usage(`${from} does not hold a token (<header>.<claims>.<signature>, base64url)`);
  return token;
}

/** Request headers carrying the token (none without one): for requests to the ledger's own URL. */
export function authHeaders(io: Io, values: { token?: string | undefined }): Record<string, string> {
  const token = readToken(io, values);
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/**
 * A fetch that adds the token to requests for the ledger (`baseUrl`'s origin) and to nothing
 * else (a witness, a mirror): pass it as `fetch` to httpSource / httpProofProvider, or use it
 * for the command's own requests. Without a token it is the global fetch.
 */
export function ledgerFetch(io: Io, values: { token?: string | undefined }, baseUrl: string): typeof fetch {
  const headers = authHeaders(io, values);
  if (headers['authorization'] === undefined) return globalThis.fetch;
  const origin = new URL(baseUrl).origin;
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== origin) return globalThis.fetch(input, init);
    const merged = new Headers(input instanceof Request ? input.headers : undefined);
    for (const [k, v] of new Headers(init?.headers)) merged.set(k, v);
    merged.set('authorization', headers['authorization']!);
    return globalThis.fetch(input, { ...init, headers: merged });
  };
}

/** Checks an answer with the API's own schema: a malformed one is the server's fault (exit 3). */
export function parseAnswer<S extends z.ZodType>(s: S, text: string, what: string): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CliError('SERVER_ERROR', `the ${what} answer is not JSON`);
  }
  const r = s.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new CliError('SERVER_ERROR', `the ${what} answer is malformed: /${i.path.join('/')}: ${i.message}`);
  }
  return r.data;
}
