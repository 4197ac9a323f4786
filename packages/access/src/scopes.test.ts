import { registration } from '@civic-ledger/schemas';
import { describe, expect, it } from 'vitest';
import { ORG_ROLES, ROLE_SCOPES, SCOPES, scopeAllowedForRole, scopeCovers, type Scope } from './scopes.ts';

describe('scope hierarchy', () => {
  it('oversight ⊇ auditor ⊇ public, operator ⊇ public, and nothing else', () => {
    const covered = (held: Scope) => SCOPES.filter((s) => scopeCovers(held, s));
    expect(covered('public')).toEqual(['public']);
    expect(covered('auditor')).toEqual(['public', 'auditor']);
    expect(covered('oversight')).toEqual(['public', 'auditor', 'oversight']);
    expect(covered('operator')).toEqual(['public', 'operator']);
  });
});

describe('roles', () => {
  it('has a row for every organization role the event schema knows', () => {
    const org = registration.options.find((o) => o.shape.kind.value === 'organization')!;
    const schemaRoles = (org.shape as { role: { options: readonly string[] } }).role.options;
    expect([...ORG_ROLES].sort()).toEqual([...schemaRoles].sort());
    expect(Object.keys(ROLE_SCOPES).sort()).toEqual([...ORG_ROLES].sort());
  });

  it('gives a role it does not know no scope', () => {
    expect(scopeAllowedForRole('research', 'auditor')).toBe(false);
    expect(scopeAllowedForRole('toString', 'auditor')).toBe(false);
  });
});
