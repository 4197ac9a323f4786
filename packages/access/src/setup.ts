// What a service needs to turn access control on: the token-issuer key (created 0600 on
// first start, like the log key), a verifier that asks the registry, and the access log.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  generateSigningKey,
  readSigningKeyFile,
  writeSigningKeyFile,
  type SigningKey,
  type VerifierKey,
} from '@civic-ledger/crypto';
import { AccessLog, type AccessLogOptions } from './access-log.ts';
import { TokenVerifier, type TokenVerifierOptions } from './tokens.ts';

/** Reads the issuer key file, or creates it (named `name`, mode 0600) when missing and `create`. */
export function loadIssuerKey(
  path: string,
  name: string,
  options: { create?: boolean } = {},
): { key: SigningKey; created: boolean } {
  if (existsSync(path) || options.create === false) return { key: readSigningKeyFile(path), created: false };
  mkdirSync(dirname(path), { recursive: true });
  const key = generateSigningKey(name);
  writeSigningKeyFile(path, key);
  return { key, created: true };
}

export interface AccessControlOptions {
  /** The ledger's origin: the tokens' `iss`, and the name of a created issuer key. */
  origin: string;
  /** The issuer's private key file (created on first open unless createIssuerKey is false). */
  issuerKeyFile: string;
  createIssuerKey?: boolean;
  /** Earlier issuer public keys still accepted during a rotation. */
  previousIssuerKeys?: readonly VerifierKey[];
  /** The node:sqlite file of the access log (created on first open). */
  accessLogFile: string;
  orgRole: TokenVerifierOptions['orgRole'];
  clockToleranceSeconds?: number;
  maxTtlSeconds?: number;
  now?: () => number;
  accessLog?: Omit<AccessLogOptions, 'now'>;
}

export interface AccessControl {
  verifier: TokenVerifier;
  log: AccessLog;
  /** The issuer's private key (for an operator tool that issues tokens in process). */
  issuerKey: SigningKey;
  issuerKeyCreated: boolean;
  close(): void;
}

/** Opens the issuer key, the verifier and the access log: pass the result as buildApp's `deps.access`. */
export function openAccessControl(options: AccessControlOptions): AccessControl {
  const { key, created } = loadIssuerKey(options.issuerKeyFile, options.origin, {
    create: options.createIssuerKey ?? true,
  });
  const verifier = new TokenVerifier({
    origin: options.origin,
    issuerKeys: [key, ...(options.previousIssuerKeys ?? [])],
    orgRole: options.orgRole,
    ...(options.clockToleranceSeconds === undefined
      ? {}
      : { clockToleranceSeconds: options.clockToleranceSeconds }),
    ...(options.maxTtlSeconds === undefined ? {} : { maxTtlSeconds: options.maxTtlSeconds }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const log = AccessLog.open(options.accessLogFile, {
    ...options.accessLog,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return { verifier, log, issuerKey: key, issuerKeyCreated: created, close: () => log.close() };
}
