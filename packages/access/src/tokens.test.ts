import { generateSigningKey } from '@civic-ledger/crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AccessError } from './errors.ts';
import { testIssuer } from './testing.ts';
import {
  inspectToken,
  issueToken,
  parseTtl,
  TOKEN_AUDIENCE,
  TOKEN_TYPE,
  TokenVerifier,
  verifyTokenSignature,
} from './tokens.ts';

const ORIGIN = 'ledger.test.example/log';
const NOW = Date.parse('2026-11-02T09:00:00Z');
const issuer = testIssuer(ORIGIN);
const ROLES: Record<string, string> = {
  ledger: 'operator',
  'transport-agency': 'agency',
  'data-vendor': 'vendor',
  'privacy-board': 'oversight',
  'compliance-engine': 'compliance',
  'edge-gateway': 'gateway',
};
const roles = new Map(Object.entries(ROLES));
const verifier = issuer.verifier((org) => roles.get(org), { now: () => NOW });

/** The reason a verification failed (the test fails when it did not). */
async function reason(p: Promise<unknown>): Promise<unknown> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'verification should have failed').toBeInstanceOf(AccessError);
  expect((e as AccessError).code).toBe('TOKEN_INVALID');
  return (e as AccessError).details['reason'];
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const seconds = Math.floor(NOW / 1000);
const claims = {
  scope: 'auditor',
  iss: ORIGIN,
  aud: TOKEN_AUDIENCE,
  sub: 'transport-agency',
  iat: seconds,
  exp: seconds + 3600,
  jti: 'abcdefgh1234',
};

/** A token signed with the issuer key by jose, with any header and claims (attacks on the verifier). */
function forge(payload: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', typ: TOKEN_TYPE, kid: issuer.key.keyIdHex, ...header })
    .sign(issuer.key.privateKeyObject);
}

describe('issue and verify', () => {
  it('round-trips: the grant names the organization, its role, the scope, the jti and the times', async () => {
    const token = await issuer.token('transport-agency', 'auditor', { now: NOW, jti: 'token-0001' });
    expect(token.split('.')).toHaveLength(3);
    expect(await verifier.verify(token)).toEqual({
      org: 'transport-agency',
      role: 'agency',
      scope: 'auditor',
      jti: 'token-0001',
      issuedAt: seconds,
      expiresAt: seconds + 3600,
    });
    const { header, claims: c } = inspectToken(token);
    expect(header).toEqual({ alg: 'EdDSA', typ: TOKEN_TYPE, kid: issuer.key.keyIdHex });
    expect(c).toMatchObject({ iss: ORIGIN, aud: 'civic-ledger', sub: 'transport-agency', scope: 'auditor' });
  });

  it('gives each token its own random jti by default', async () => {
    const a = inspectToken(await issuer.token('transport-agency', 'auditor')).claims['jti'];
    const b = inspectToken(await issuer.token('transport-agency', 'auditor')).claims['jti'];
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
  });

  it('refuses an expired token, but allows the clock tolerance (30 s)', async () => {
    const token = await issuer.token('transport-agency', 'auditor', {
      now: NOW - 3600_000,
      ttlSeconds: 3590,
    });
    expect(await verifier.verify(token)).toMatchObject({ org: 'transport-agency' }); // expired 10 s ago
    const old = await issuer.token('transport-agency', 'auditor', { now: NOW - 7200_000 });
    expect(await reason(verifier.verify(old))).toBe('expired');
  });

  it('refuses a token issued in the future beyond the tolerance', async () => {
    const token = await issuer.token('transport-agency', 'auditor', { now: NOW + 120_000 });
    expect(await reason(verifier.verify(token))).toBe('not-yet-valid');
  });

  it('refuses another ledger (iss) and another audience (aud)', async () => {
    const other = issuer.verifier((org) => roles.get(org), { origin: 'other.example/log', now: () => NOW });
    expect(await reason(other.verify(await issuer.token('transport-agency', 'auditor', { now: NOW })))).toBe(
      'issuer',
    );
    expect(await reason(verifier.verify(await forge({ ...claims, aud: 'another-service' })))).toBe(
      'audience',
    );
  });

  it('refuses alg none, whatever the claims', async () => {
    const none = `${b64({ alg: 'none', typ: TOKEN_TYPE })}.${b64(claims)}.`;
    expect(await reason(verifier.verify(none))).toBe('algorithm');
  });

  it('refuses HS256 signed with the public key as the secret (the algorithm-confusion attack)', async () => {
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE, kid: issuer.key.keyIdHex })
      .sign(issuer.key.publicKey);
    expect(await reason(verifier.verify(hs))).toBe('algorithm');
  });

  it('refuses a tampered payload (scope raised) and a token signed by another key', async () => {
    const token = await issuer.token('transport-agency', 'auditor', { now: NOW });
    const [h, p, s] = token.split('.');
    const raised = { ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'oversight' };
    expect(await reason(verifier.verify(`${h}.${b64(raised)}.${s}`))).toBe('signature');

    const stranger = generateSigningKey(ORIGIN);
    const foreign = await issueToken(stranger, {
      origin: ORIGIN,
      org: 'transport-agency',
      scope: 'auditor',
      now: NOW,
    });
    expect(await reason(verifier.verify(foreign))).toBe('unknown-key');
    // The issuer's kid on a stranger's signature.
    const spoofed = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: TOKEN_TYPE, kid: issuer.key.keyIdHex })
      .sign(stranger.privateKeyObject);
    expect(await reason(verifier.verify(spoofed))).toBe('signature');
  });

  it('refuses a JWT of another type, a missing jti, and a lifetime over 30 days', async () => {
    expect(await reason(verifier.verify(await forge(claims, { typ: 'JWT' })))).toBe('type');
    const { jti: _, ...noJti } = claims;
    expect(await reason(verifier.verify(await forge(noJti)))).toBe('claims');
    expect(await reason(verifier.verify(await forge({ ...claims, scope: 'public' })))).toBe('claims');
    expect(await reason(verifier.verify(await forge({ ...claims, exp: seconds + 31 * 86_400 })))).toBe(
      'lifetime',
    );
  });

  it('refuses garbage and oversized headers without parsing them', async () => {
    expect(await reason(verifier.verify('not-a-token'))).toBe('malformed');
    expect(await reason(verifier.verify(`${'a'.repeat(5000)}.b.c`))).toBe('too-large');
  });

  it('accepts tokens of an earlier issuer key during a rotation', async () => {
    const next = testIssuer(ORIGIN);
    const both = new TokenVerifier({
      origin: ORIGIN,
      issuerKeys: [next.key, issuer.key],
      orgRole: (org) => roles.get(org),
      now: () => NOW,
    });
    expect((await both.verify(await issuer.token('privacy-board', 'oversight', { now: NOW }))).org).toBe(
      'privacy-board',
    );
    expect((await both.verify(await next.token('privacy-board', 'oversight', { now: NOW }))).org).toBe(
      'privacy-board',
    );
  });
});

describe('the registry at request time', () => {
  it('refuses an organization the ledger does not know, and notices one that the lookup stops knowing', async () => {
    expect(await reason(verifier.verify(await issuer.token('nobody-here', 'auditor', { now: NOW })))).toBe(
      'unknown-organization',
    );
    const known = new Map(roles);
    const v = issuer.verifier((org) => known.get(org), { now: () => NOW });
    const token = await issuer.token('data-vendor', 'auditor', { now: NOW });
    expect((await v.verify(token)).role).toBe('vendor');
    known.delete('data-vendor');
    expect(await reason(v.verify(token))).toBe('unknown-organization');
  });

  it.each([
    ['transport-agency', 'auditor', true],
    ['transport-agency', 'oversight', false],
    ['transport-agency', 'operator', false],
    ['data-vendor', 'auditor', true],
    ['compliance-engine', 'auditor', true],
    ['privacy-board', 'oversight', true],
    ['privacy-board', 'auditor', true],
    ['privacy-board', 'operator', false],
    ['ledger', 'operator', true],
    ['ledger', 'auditor', false],
    ['edge-gateway', 'auditor', false],
  ] as const)('%s (%s role) with scope %s: allowed %s', async (org, scope, allowed) => {
    const token = await issuer.token(org, scope, { now: NOW });
    if (allowed) expect((await verifier.verify(token)).scope).toBe(scope);
    else expect(await reason(verifier.verify(token))).toBe('scope-not-allowed');
  });

  it('asks an async lookup too', async () => {
    const v = issuer.verifier(async (org) => (org === 'privacy-board' ? 'oversight' : undefined), {
      now: () => NOW,
    });
    expect((await v.verify(await issuer.token('privacy-board', 'oversight', { now: NOW }))).role).toBe(
      'oversight',
    );
  });
});

describe('issue options', () => {
  it.each([
    [{ org: 'Bad Org' }, 'org'],
    [{ scope: 'public' }, 'scope'],
    [{ ttlSeconds: 31 * 86_400 }, 'ttl'],
    [{ ttlSeconds: 0 }, 'ttl'],
    [{ origin: 'has space' }, 'origin'],
  ])('refuses %j naming %s', async (bad, field) => {
    const e = await issueToken(issuer.key, {
      origin: ORIGIN,
      org: 'transport-agency',
      scope: 'auditor',
      ...(bad as object),
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AccessError);
    expect((e as AccessError).code).toBe('TOKEN_OPTIONS_INVALID');
    expect((e as AccessError).message).toContain(field);
  });

  it('parses TTLs in s, m, h, d up to 30 days', () => {
    expect(parseTtl('90')).toBe(90);
    expect(parseTtl('90s')).toBe(90);
    expect(parseTtl('30m')).toBe(1800);
    expect(parseTtl('1h')).toBe(3600);
    expect(parseTtl('30d')).toBe(30 * 86_400);
    for (const bad of ['31d', '0', '1w', '-1h', '', '1.5h']) {
      expect(() => parseTtl(bad), bad).toThrow(AccessError);
    }
  });

  it('lets inspection skip the issuer but never the signature', async () => {
    const token = await issuer.token('privacy-board', 'oversight', { now: NOW });
    expect((await verifyTokenSignature(token, { issuerKeys: [issuer.key], now: () => NOW })).sub).toBe(
      'privacy-board',
    );
    await expect(
      verifyTokenSignature(token, { issuerKeys: [generateSigningKey(ORIGIN)], now: () => NOW }),
    ).rejects.toMatchObject({ details: { reason: 'unknown-key' } });
    expect(() => inspectToken('a.b')).toThrow(AccessError);
  });
});
