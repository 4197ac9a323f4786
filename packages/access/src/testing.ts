// Test fixtures: an issuer key and tokens for it, without key files unless asked.
import { writeSigningKeyFile, generateSigningKey, type SigningKey } from '@civic-ledger/crypto';
import { join } from 'node:path';
import type { TokenScope } from './scopes.ts';
import { issueToken, TokenVerifier, type TokenVerifierOptions } from './tokens.ts';

export interface TestIssuer {
  origin: string;
  key: SigningKey;
  /** A token for `org` with `scope` (default TTL 1 h; `now` in ms). */
  token(
    org: string,
    scope: TokenScope,
    options?: { ttlSeconds?: number; now?: number; jti?: string },
  ): Promise<string>;
  /** A verifier for this issuer with the given registry lookup. */
  verifier(orgRole: TokenVerifierOptions['orgRole'], options?: Partial<TokenVerifierOptions>): TokenVerifier;
  /** Writes the private key to `<dir>/<name>` (mode 0600) and returns the path. */
  writeKeyFile(dir: string, name?: string): string;
}

/** An issuer for `origin` with a fresh key (or the one given). */
export function testIssuer(origin: string, key: SigningKey = generateSigningKey(origin)): TestIssuer {
  return {
    origin,
    key,
    token: (org, scope, options = {}) => issueToken(key, { origin, org, scope, ...options }),
    verifier: (orgRole, options = {}) =>
      new TokenVerifier({ origin, issuerKeys: [key], orgRole, ...options }),
    writeKeyFile(dir, name = 'token-issuer.key') {
      const path = join(dir, name);
      writeSigningKeyFile(path, key);
      return path;
    },
  };
}

/** The request header that carries a token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
