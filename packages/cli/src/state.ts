// The verifier's memory between runs: the last checkpoint it verified (size, root and the
// compact range). Written only after a successful run, atomically (temp file + rename), so
// an interrupted run never leaves a half-written state.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { VerifierState } from '@civic-ledger/verifier';
import { z } from 'zod';
import { CliError } from './errors.ts';

const hex = z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits');

export const stateFileSchema = z.object({
  origin: z.string().min(1),
  size: z.number().int().min(0),
  rootHash: hex,
  border: z.array(hex).optional(),
  /** Informational: the pinned key and when the state was saved. */
  logKey: z.string().optional(),
  savedAt: z.string().optional(),
});

export interface SavedState {
  state: VerifierState;
  /** The log key pinned when it was saved (informational). */
  logKey: string | undefined;
}

export function readStateFile(path: string): SavedState | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError('CONFIG_INVALID', `state file ${path}: not JSON (${(e as Error).message})`);
  }
  const parsed = stateFileSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new CliError(
      'CONFIG_INVALID',
      `state file ${path}: ${first ? `${first.path.join('.') || '(file)'}: ${first.message}` : 'invalid'}`,
    );
  }
  const { origin, size, rootHash, border, logKey } = parsed.data;
  return { state: { origin, size, rootHash, ...(border === undefined ? {} : { border }) }, logKey };
}

export function writeStateFile(path: string, state: VerifierState, logKey: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const body = { ...state, logKey, savedAt: new Date().toISOString() };
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(tmp, path);
}
