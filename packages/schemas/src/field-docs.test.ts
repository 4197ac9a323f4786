import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fieldReference } from './field-docs.ts';

describe('FIELDS.md', () => {
  it('is generated from the current schemas (run `pnpm --filter @civic-ledger/schemas run docs` after a schema change)', () => {
    expect(readFileSync(new URL('../FIELDS.md', import.meta.url), 'utf8')).toBe(fieldReference());
  });

  it('documents every event type with its required envelope fields', () => {
    const doc = fieldReference();
    for (const t of [
      'collect',
      'transfer',
      'derive',
      'use',
      'publish',
      'delete',
      'register',
      'declare',
      'key',
      'attest',
      'finding',
    ]) {
      expect(doc).toContain(`## \`${t}\``);
    }
    expect(doc).toMatch(/\| `seq` \| yes \| integer >= 1 \|/);
  });
});
