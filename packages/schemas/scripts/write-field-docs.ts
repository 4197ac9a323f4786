// Writes FIELDS.md from the schemas: `pnpm --filter @civic-ledger/schemas run docs`.
import { writeFileSync } from 'node:fs';
import { fieldReference } from '../src/field-docs.ts';

writeFileSync(new URL('../FIELDS.md', import.meta.url), fieldReference());
