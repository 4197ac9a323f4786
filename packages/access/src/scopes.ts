// Read scopes, what each one includes, and which organization roles may hold which scope.
// Two branches above public: oversight ⊇ auditor ⊇ public, and operator ⊇ public. Running
// the ledger does not entitle anyone to read the movements it records, so operator does not
// include auditor (separation of duties; the operator's reads would otherwise go unseen).
import { z } from 'zod';

export const SCOPES = ['public', 'auditor', 'oversight', 'operator'] as const;
export type Scope = (typeof SCOPES)[number];
export const scopeSchema = z.enum(SCOPES);

/** The scopes a token can carry (public needs no token). */
export const TOKEN_SCOPES = ['auditor', 'oversight', 'operator'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
export const tokenScopeSchema = z.enum(TOKEN_SCOPES, {
  error: `one of ${TOKEN_SCOPES.join(', ')}`,
});

/** Each scope and every scope it includes. */
export const SCOPE_INCLUDES: Readonly<Record<Scope, readonly Scope[]>> = {
  public: ['public'],
  auditor: ['auditor', 'public'],
  oversight: ['oversight', 'auditor', 'public'],
  operator: ['operator', 'public'],
};

/** True when a holder of `held` may use a route that needs `needed`. */
export function scopeCovers(held: Scope, needed: Scope): boolean {
  return SCOPE_INCLUDES[held].includes(needed);
}

/** The organization roles of `register` events (@civic-ledger/schemas `registration`). */
export const ORG_ROLES = ['agency', 'vendor', 'oversight', 'operator', 'compliance', 'gateway'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/**
 * Which token scopes an organization of each role may be issued (and use: checked again at
 * every request against the role the registry holds then).
 * - agency, vendor: auditor, to trace and check the movements of data they hold or receive.
 * - compliance: auditor, to read the events it evaluates.
 * - oversight: oversight (and auditor, which it includes anyway).
 * - operator (the `ledger` organization only): operator; no auditor (see above).
 * - gateway: none; gateways submit signed events and read public routes only.
 * A role this table does not know gets no scope.
 */
export const ROLE_SCOPES: Readonly<Record<OrgRole, readonly TokenScope[]>> = {
  agency: ['auditor'],
  vendor: ['auditor'],
  compliance: ['auditor'],
  oversight: ['oversight', 'auditor'],
  operator: ['operator'],
  gateway: [],
};

/** True when an organization of `role` may hold a token of `scope`. */
export function scopeAllowedForRole(role: string, scope: TokenScope): boolean {
  return (Object.hasOwn(ROLE_SCOPES, role) ? ROLE_SCOPES[role as OrgRole] : []).includes(scope);
}
