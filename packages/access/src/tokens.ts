// Bearer tokens: JWTs signed with EdDSA (Ed25519) by the ledger's token-issuer key, through
// jose (no hand-written JOSE). Verification pins the algorithm (so `none`, HS256 and every
// other alg are refused before any key is used), checks the explicit type, issuer, audience,
// times with a small clock tolerance and the lifetime, then asks the ledger's registry at
// request time whether the organization exists and its role may hold the scope.
import { randomBytes, type webcrypto } from 'node:crypto';
import type { SigningKey, VerifierKey } from '@civic-ledger/crypto';
import { orgId } from '@civic-ledger/schemas';
import { decodeJwt, decodeProtectedHeader, errors as jose, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { AccessError, tokenInvalid } from './errors.ts';
import { scopeAllowedForRole, tokenScopeSchema, type TokenScope } from './scopes.ts';

/** The `aud` of every token. */
export const TOKEN_AUDIENCE = 'civic-ledger';
/** The JOSE `typ` header (explicit typing, RFC 8725 §3.11): no other JWT passes as one of ours. */
export const TOKEN_TYPE = 'civic-ledger-access+jwt';
/** The only signature algorithm issued and accepted. */
export const TOKEN_ALGORITHM = 'EdDSA';
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
export const MAX_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
/** Longer header values are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 4096;

const origin = z
  .string()
  .min(1, 'not empty')
  .max(255, 'at most 255 characters')
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
const seconds = z.number().int().nonnegative();
const jti = z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, '8-128 of A-Z a-z 0-9 _ -');

/** The claims of a token, as verified. */
export const tokenClaimsSchema = z.object({
  iss: origin,
  aud: z.literal(TOKEN_AUDIENCE),
  sub: orgId,
  scope: tokenScopeSchema,
  iat: seconds,
  exp: seconds,
  jti,
});
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

export const issueOptionsSchema = z.object({
  /** The ledger's origin (the checkpoint origin line): the `iss`. */
  origin,
  /** The registered organization the token is for: the `sub`. */
  org: orgId,
  scope: tokenScopeSchema,
  ttlSeconds: z
    .number()
    .int()
    .min(1, 'at least 1 s')
    .max(MAX_TOKEN_TTL_SECONDS, `at most ${MAX_TOKEN_TTL_SECONDS} s (30 days)`)
    .default(DEFAULT_TOKEN_TTL_SECONDS),
  /** Issue time, ms since the epoch (default now). */
  now: z.number().int().nonnegative().optional(),
  /** Token id (default 16 random bytes, base64url). */
  jti: jti.optional(),
});
export type IssueOptions = z.input<typeof issueOptionsSchema>;

function optionsError(error: z.ZodError): AccessError {
  const issue = error.issues[0]!;
  const where = issue.path.join('.');
  return new AccessError(
    'TOKEN_OPTIONS_INVALID',
    issue.message.startsWith(`${where}:`) ? issue.message : `${where}: ${issue.message}`,
    {
      issues: error.issues.map((i) => ({ path: i.path.join('.'), rule: i.message })),
    },
  );
}

/** Signs a token for `org` with the issuer key. Refuses wrong options (TOKEN_OPTIONS_INVALID). */
export async function issueToken(key: SigningKey, options: IssueOptions): Promise<string> {
  const parsed = issueOptionsSchema.safeParse(options);
  if (!parsed.success) throw optionsError(parsed.error);
  const o = parsed.data;
  const iat = Math.floor((o.now ?? Date.now()) / 1000);
  return new SignJWT({ scope: o.scope })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: TOKEN_TYPE, kid: key.keyIdHex })
    .setIssuer(o.origin)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(o.org)
    .setIssuedAt(iat)
    .setExpirationTime(iat + o.ttlSeconds)
    .setJti(o.jti ?? randomBytes(16).toString('base64url'))
    .sign(key.privateKeyObject);
}

/**
 * Parses `<n>`, `<n>s`, `<n>m`, `<n>h` or `<n>d` into seconds, within 1 s and 30 days
 * (TOKEN_OPTIONS_INVALID otherwise).
 */
export function parseTtl(text: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!m) {
    throw new AccessError('TOKEN_OPTIONS_INVALID', 'ttl: a duration like 3600, 90s, 30m, 1h or 7d', {
      ttl: text,
    });
  }
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2]!]!;
  const ttl = Number(m[1]) * unit;
  if (ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
    throw new AccessError('TOKEN_OPTIONS_INVALID', 'ttl: from 1 s to 30 days', { ttl: text });
  }
  return ttl;
}

export interface SignatureCheckOptions {
  /** Issuer public keys, chosen by the token's `kid` (several during a key rotation). */
  issuerKeys: readonly VerifierKey[];
  /** The expected `iss`; omitted, any issuer is accepted (inspection only, never a server). */
  origin?: string;
  clockToleranceSeconds?: number;
  maxTtlSeconds?: number;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

/** WebCrypto keys of the issuer keys, made once: jose would convert a KeyObject on every call. */
const cryptoKeys = new WeakMap<VerifierKey, webcrypto.CryptoKey>();
function cryptoKeyOf(key: VerifierKey): webcrypto.CryptoKey {
  let k = cryptoKeys.get(key);
  if (!k) {
    k = key.keyObject.toCryptoKey({ name: 'Ed25519' }, false, ['verify']);
    cryptoKeys.set(key, k);
  }
  return k;
}

function fromJose(e: unknown): AccessError {
  if (e instanceof AccessError) return e;
  if (e instanceof jose.JWTExpired) return tokenInvalid('expired', 'the token has expired', {}, e);
  if (e instanceof jose.JWTClaimValidationFailed) {
    const claim = e.claim;
    if (claim === 'iss') return tokenInvalid('issuer', 'the token was issued for another ledger', {}, e);
    if (claim === 'aud') return tokenInvalid('audience', 'the token is not for this audience', {}, e);
    if (claim === 'typ') return tokenInvalid('type', `the token is not of type ${TOKEN_TYPE}`, {}, e);
    if (claim === 'nbf' || claim === 'iat')
      return tokenInvalid('not-yet-valid', 'the token is not valid yet', { claim }, e);
    return tokenInvalid('claims', `claim ${claim}: ${e.reason}`, { claim }, e);
  }
  if (e instanceof jose.JOSEAlgNotAllowed || e instanceof jose.JOSENotSupported)
    return tokenInvalid('algorithm', `only ${TOKEN_ALGORITHM} tokens are accepted`, {}, e);
  if (e instanceof jose.JWSSignatureVerificationFailed)
    return tokenInvalid('signature', 'the token signature does not verify', {}, e);
  return tokenInvalid('malformed', 'the token is not a well-formed JWS compact JWT', {}, e);
}

/**
 * Checks everything a token proves by itself: form, algorithm, type, signature by one of
 * the issuer keys, issuer, audience, iat/exp with the clock tolerance, lifetime at most
 * maxTtlSeconds. Throws AccessError TOKEN_INVALID with `details.reason`.
 */
export async function verifyTokenSignature(
  token: string,
  options: SignatureCheckOptions,
): Promise<TokenClaims> {
  if (token.length > MAX_TOKEN_LENGTH)
    throw tokenInvalid('too-large', `a token has at most ${MAX_TOKEN_LENGTH} characters`);
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const maxTtl = options.maxTtlSeconds ?? MAX_TOKEN_TTL_SECONDS;
  const nowMs = (options.now ?? Date.now)();
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header) => {
        const key = options.issuerKeys.find((k) => k.keyIdHex === header.kid);
        if (!key)
          throw tokenInvalid('unknown-key', 'the token is signed by a key this ledger does not issue with');
        return cryptoKeyOf(key);
      },
      {
        algorithms: [TOKEN_ALGORITHM],
        typ: TOKEN_TYPE,
        audience: TOKEN_AUDIENCE,
        ...(options.origin === undefined ? {} : { issuer: options.origin }),
        clockTolerance: tolerance,
        currentDate: new Date(nowMs),
        requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'],
      },
    ));
  } catch (e) {
    throw fromJose(e);
  }
  const parsed = tokenClaimsSchema.safeParse(payload);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw tokenInvalid('claims', `claim ${i.path.join('.')}: ${i.message}`, { claim: i.path.join('.') });
  }
  const c = parsed.data;
  if (c.iat > nowMs / 1000 + tolerance)
    throw tokenInvalid('not-yet-valid', 'the token is issued in the future');
  if (c.exp - c.iat > maxTtl)
    throw tokenInvalid('lifetime', `the token lives longer than ${maxTtl} s`, { maxTtlSeconds: maxTtl });
  return c;
}

/** What a verified token grants, as the HTTP layer and the access log use it. */
export interface AccessGrant {
  org: string;
  /** The organization's role in the registry at the time of the request. */
  role: string;
  scope: TokenScope;
  jti: string;
  /** Seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
}

export interface TokenVerifierOptions extends SignatureCheckOptions {
  origin: string;
  /** The organization's role in the ledger's registry now, undefined when not registered. */
  orgRole: (org: string) => string | undefined | Promise<string | undefined>;
}

/** What the HTTP layer needs of a verifier. */
export interface TokenCheck {
  verify(token: string): Promise<AccessGrant>;
}

/** Verifies tokens for one ledger: the signature checks, then the registry and the role. */
export class TokenVerifier implements TokenCheck {
  readonly #options: TokenVerifierOptions;

  constructor(options: TokenVerifierOptions) {
    if (options.issuerKeys.length === 0) throw new TypeError('TokenVerifier: give at least one issuer key');
    this.#options = options;
  }

  async verify(token: string): Promise<AccessGrant> {
    const c = await verifyTokenSignature(token, this.#options);
    const role = await this.#options.orgRole(c.sub);
    if (role === undefined)
      throw tokenInvalid('unknown-organization', `organization ${c.sub} is not registered in this ledger`, {
        org: c.sub,
      });
    if (!scopeAllowedForRole(role, c.scope))
      throw tokenInvalid(
        'scope-not-allowed',
        `an organization of role ${role} may not hold scope ${c.scope}`,
        { org: c.sub, role, scope: c.scope },
      );
    return { org: c.sub, role, scope: c.scope, jti: c.jti, issuedAt: c.iat, expiresAt: c.exp };
  }
}

/** A token's header and claims, NOT verified (for display: `civic-ledger token inspect`). */
export function inspectToken(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  if (token.length > MAX_TOKEN_LENGTH)
    throw tokenInvalid('too-large', `a token has at most ${MAX_TOKEN_LENGTH} characters`);
  try {
    return {
      header: decodeProtectedHeader(token) as Record<string, unknown>,
      claims: decodeJwt(token) as Record<string, unknown>,
    };
  } catch (e) {
    throw tokenInvalid('malformed', 'the token is not a well-formed JWS compact JWT', {}, e);
  }
}
