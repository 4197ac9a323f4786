// token: bearer tokens for the ledger's non-public read routes. `issue` signs one with the
// ledger's token-issuer key (the operator's tool; the key never leaves the machine it is on);
// `inspect` shows what a token says, and with --issuer-key checks its signature and times.
// The ledger checks the rest at every request: the organization is registered and its role
// may hold the scope.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  AccessError,
  inspectToken,
  issueToken,
  parseTtl,
  TOKEN_SCOPES,
  verifyTokenSignature,
} from '@civic-ledger/access';
import { CryptoError, parseVerifierKey, readSigningKeyFile, type SigningKey } from '@civic-ledger/crypto';
import { z } from 'zod';
import { nonEmpty, verifierKeyFlag } from '../args.ts';
import { defineCommand } from '../command.ts';
import { CliError, EXIT, usage } from '../errors.ts';
import type { Io } from '../io.ts';
import { jsonSchema } from './common.ts';

const HELP = `Usage: civic-ledger token issue --key <issuer key file> --org <id> --scope <scope> [flags]
       civic-ledger token inspect <token or file> [--issuer-key <key>] [--origin <origin>] [--json]

Bearer tokens for the ledger's non-public read routes (events, entries, lineage traces:
scope auditor; plus the access log: scope oversight). Public routes (checkpoints, proofs,
chain heads, aggregated flows) need none; submissions are authenticated by their signatures.

issue: signs a token (an EdDSA JWT) for a registered organization with the ledger's
token-issuer key (the standalone service creates it in its data dir as token-issuer.key)
and prints it on stdout. The ledger accepts it only while the organization is registered
and its role may hold the scope: auditor for agency, vendor, compliance and oversight
organizations; oversight for oversight organizations; operator for the operator (ledger).
  --key <file>            the token-issuer private key file (mode 0600) (required)
  --org <id>              the organization the token is for (required)
  --scope <scope>         ${TOKEN_SCOPES.join(', ')} (required)
  --ttl <duration>        lifetime: 3600, 90s, 30m, 1h, 7d; at most 30d (default 1h)
  --origin <origin>       the ledger's origin, the token's issuer (default: the key's name,
                          which is the origin for a key the service created)
  --out <file>            write the token to <file> (mode 0600) instead of stdout, ready for
                          --token <file>; refused if it exists unless --force
  --force                 overwrite --out
  --json                  print { token, org, scope, origin, jti, issuedAt, expiresAt }

inspect: prints a token's header and claims (from the token text, or a file holding it).
Without --issuer-key they are shown NOT VERIFIED. With it the signature, algorithm, type,
audience, times and lifetime are checked (and the issuer, with --origin); the registry
check is the ledger's own.
  --issuer-key <key>      the token-issuer verifier key text (<name>+<key id>+<base64>)
  --origin <origin>       the issuer the token must name (with --issuer-key)
  --json                  print { header, claims, verified, expired }

A token is a secret: anyone holding it reads with its scope until it expires. Give the
shortest TTL that works; every read with it is in the ledger's access log.

Exit codes: 0 ok, 1 the token does not verify with --issuer-key, 2 usage (bad flag, not a
token), 3 could not read the key file or write --out.
`;

const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const schema = z.object({
  action: z.enum(['issue', 'inspect'], { error: 'issue or inspect' }),
  token: nonEmpty.optional(),
  key: nonEmpty.optional(),
  org: nonEmpty.optional(),
  scope: z.enum(TOKEN_SCOPES, { error: `one of ${TOKEN_SCOPES.join(', ')}` }).optional(),
  ttl: nonEmpty.default('1h'),
  origin: nonEmpty.optional(),
  out: nonEmpty.optional(),
  force: z.boolean().default(false),
  'issuer-key': verifierKeyFlag.optional(),
  json: jsonSchema,
});
type Values = z.output<typeof schema>;

/** The flags that belong to the other action are refused rather than ignored. */
function only(v: Values, allowed: readonly string[]): void {
  const given = {
    token: v.token,
    key: v.key,
    org: v.org,
    scope: v.scope,
    out: v.out,
    'issuer-key': v['issuer-key'],
  };
  for (const [flag, value] of Object.entries(given)) {
    if (value !== undefined && !allowed.includes(flag))
      throw usage(
        flag === 'token'
          ? `unexpected argument for token ${v.action}`
          : `--${flag}: not a flag of token ${v.action}`,
      );
  }
}

function readKey(io: Io, file: string): SigningKey {
  const path = resolve(io.cwd, file);
  try {
    return readSigningKeyFile(path);
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'KEY_FILE_PERMISSIONS') throw usage(`--key: ${e.message}`);
    if (e instanceof CryptoError) throw usage(`--key: ${path} is not a private key file (${e.message})`);
    throw new CliError(
      'IO_ERROR',
      `--key: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      {
        cause: e,
      },
    );
  }
}

async function issue(v: Values, io: Io): Promise<number> {
  only(v, ['key', 'org', 'scope', 'out']);
  if (v.key === undefined) throw usage('--key: required (the token-issuer key file)');
  if (v.org === undefined) throw usage('--org: required');
  if (v.scope === undefined) throw usage(`--scope: required (${TOKEN_SCOPES.join(', ')})`);
  if (v.force && v.out === undefined) throw usage('--force: only with --out');
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtl(v.ttl);
  } catch (e) {
    throw usage(`--ttl: ${(e as Error).message.replace(/^ttl: /, '')}`);
  }
  const key = readKey(io, v.key);
  const origin = v.origin ?? key.name;
  let token: string;
  try {
    token = await issueToken(key, { origin, org: v.org, scope: v.scope, ttlSeconds });
  } catch (e) {
    if (e instanceof AccessError) throw usage(e.message.replace(/^(\w+):/, (_, f: string) => `--${f}:`));
    throw e;
  }
  const { claims } = inspectToken(token);
  const summary = {
    org: v.org,
    scope: v.scope,
    origin,
    jti: claims['jti'] as string,
    issuedAt: new Date((claims['iat'] as number) * 1000).toISOString(),
    expiresAt: new Date((claims['exp'] as number) * 1000).toISOString(),
  };
  if (v.out !== undefined) {
    const file = resolve(io.cwd, v.out);
    try {
      writeFileSync(file, `${token}\n`, { mode: 0o600, flag: v.force ? 'w' : 'wx' });
      chmodSync(file, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw usage(`--out: ${file} exists (use --force to overwrite it)`);
      throw new CliError('IO_ERROR', `--out: cannot write ${file} (${(e as Error).message})`, { cause: e });
    }
    if (v.json) io.out(`${JSON.stringify({ ...summary, file })}\n`);
    else
      io.err(
        `wrote a ${v.scope} token for ${v.org} to ${file} (mode 0600), valid until ${summary.expiresAt}\n`,
      );
    return EXIT.OK;
  }
  if (v.json) io.out(`${JSON.stringify({ token, ...summary })}\n`);
  else {
    io.out(`${token}\n`);
    io.err(
      `a ${v.scope} token for ${v.org}, issued by ${origin}, valid until ${summary.expiresAt}; keep it secret\n`,
    );
  }
  return EXIT.OK;
}

async function inspect(v: Values, io: Io): Promise<number> {
  only(v, ['token', 'issuer-key']);
  if (v.token === undefined) throw usage('<token>: required (the token, or a file holding it)');
  if (v.origin !== undefined && v['issuer-key'] === undefined)
    throw usage('--origin: only with --issuer-key');
  let text = v.token.trim();
  if (!TOKEN_SHAPE.test(text)) {
    const file = resolve(io.cwd, v.token);
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      throw usage('<token>: neither a token (<header>.<claims>.<signature>) nor a readable file');
    }
    if (!TOKEN_SHAPE.test(text)) throw usage(`<token>: ${file} does not hold a token`);
  }
  let decoded: ReturnType<typeof inspectToken>;
  try {
    decoded = inspectToken(text);
  } catch (e) {
    throw usage(`<token>: ${(e as Error).message}`);
  }
  const { header, claims } = decoded;
  const exp = typeof claims['exp'] === 'number' ? claims['exp'] : undefined;
  const expired = exp !== undefined && exp * 1000 <= Date.now();
  let verified: boolean | null = null;
  let failure: string | undefined;
  if (v['issuer-key'] !== undefined) {
    try {
      await verifyTokenSignature(text, {
        issuerKeys: [parseVerifierKey(v['issuer-key'])],
        ...(v.origin === undefined ? {} : { origin: v.origin }),
      });
      verified = true;
    } catch (e) {
      if (!(e instanceof AccessError)) throw e;
      verified = false;
      failure = `${String(e.details['reason'])}: ${e.message}`;
    }
  }
  if (v.json) {
    io.out(`${JSON.stringify({ header, claims, verified, expired, ...(failure ? { failure } : {}) })}\n`);
  } else {
    const time = (s: unknown) => (typeof s === 'number' ? `${new Date(s * 1000).toISOString()}` : String(s));
    io.out(
      [
        `organization: ${String(claims['sub'])}`,
        `scope:        ${String(claims['scope'])}`,
        `issuer:       ${String(claims['iss'])}`,
        `audience:     ${String(claims['aud'])}`,
        `issued at:    ${time(claims['iat'])}`,
        `expires at:   ${time(claims['exp'])}${expired ? ' (EXPIRED)' : ''}`,
        `token id:     ${String(claims['jti'])}`,
        `algorithm:    ${String(header['alg'])}, key id ${String(header['kid'])}, type ${String(header['typ'])}`,
        verified === null
          ? 'signature:    NOT VERIFIED (give --issuer-key to check it)'
          : verified
            ? 'signature:    verified with the issuer key'
            : `signature:    DOES NOT VERIFY (${failure})`,
      ].join('\n') + '\n',
    );
  }
  return verified === false ? EXIT.VERIFICATION_FAILED : EXIT.OK;
}

export const command = defineCommand({
  spec: {
    name: 'token',
    summary: 'issue and inspect bearer tokens for the non-public read routes',
    help: HELP,
    options: {
      key: { type: 'string' },
      org: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string' },
      origin: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      'issuer-key': { type: 'string' },
      json: { type: 'boolean' },
    },
    schema,
    positional: ['action', 'token'],
  },
  run: (v, io) => (v.action === 'issue' ? issue(v, io) : inspect(v, io)),
});
