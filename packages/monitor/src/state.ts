// The monitor's memory between polls and runs: the last checkpoint it verified (size, root,
// compact range, the note itself), where every emitter chain stands, the registry records
// (organizations, resources, keys) replayed from the log up to that size, what each witness
// last showed, and notifications not yet delivered. Written atomically (temp file, fsync,
// rename), so a crash leaves the previous state or the new one, never half of one.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { toHex } from '@civic-ledger/crypto';
import { borderNodeIds, emptyRoot } from '@civic-ledger/merkle';
import { z } from 'zod';
import { MonitorError } from './errors.ts';
import { outboxItemSchema } from './notify.ts';

export const STATE_FORMAT = 'civic-ledger-monitor-state';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits');
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const headSchema = z.strictObject({
  seq: z.number().int().min(1),
  /** Event hash of the chain's last event. */
  hash: hex64,
  /** Its ledger index. */
  index: count,
});

export const registryRecordSchema = z.strictObject({
  index: count,
  kind: z.enum(['organization', 'source', 'dataset', 'key-add', 'key-revoke', 'key-recover', 'purpose']),
  id: z.string().min(1),
  org: z.string().min(1),
  data: z.string(),
});

export const witnessSeenSchema = z.strictObject({
  size: count,
  rootHash: hex64,
  note: z.string(),
  /** When the monitor last read it (RFC 3339). */
  seenAt: z.string(),
});

export const monitorStateSchema = z
  .strictObject({
    format: z.literal(STATE_FORMAT),
    version: z.literal(1),
    origin: z.string().min(1),
    /** The pinned log key when the state was written (informational; with logKeys the last). */
    logKey: z.string().min(1),
    /**
     * A rotated log: the keys the monitor trusted when it wrote the state, with their windows
     * over tree sizes (informational: what it is started with decides). Absent for one key.
     */
    logKeys: z
      .array(
        z.strictObject({
          key: z.string().min(1),
          fromSize: count.optional(),
          untilSize: count.optional(),
        }),
      )
      .min(1)
      .optional(),
    /** Size of the last verified checkpoint: every leaf below it was checked. */
    size: count,
    rootHash: hex64,
    /** Compact range of that tree: perfect-subtree roots, largest first (hex). */
    border: z.array(hex64),
    /** The signed note of that checkpoint (null before the first). */
    checkpoint: z.string().nullable(),
    /** Chain key `<emitter>/<stream>` → its last event. */
    heads: z.record(z.string(), headSchema),
    /** Registry records in ledger order (as @civic-ledger/storage's RegistryRecord). */
    registry: z.array(registryRecordSchema),
    /** Witness URL → the checkpoint it last served. */
    witnesses: z.record(z.string(), witnessSeenSchema),
    /** Notifications not yet delivered, oldest first. */
    outbox: z.array(outboxItemSchema),
    updatedAt: z.string(),
  })
  .superRefine((s, ctx) => {
    if (s.border.length !== borderNodeIds(s.size).length)
      ctx.addIssue({
        code: 'custom',
        path: ['border'],
        message: `a tree of ${s.size} leaves has ${borderNodeIds(s.size).length} border hashes`,
      });
    if (s.size === 0 && s.rootHash !== toHex(emptyRoot()))
      ctx.addIssue({ code: 'custom', path: ['rootHash'], message: 'the empty tree has the empty root' });
  });

export type MonitorState = z.infer<typeof monitorStateSchema>;
export type HeadState = z.infer<typeof headSchema>;

/** The state of a monitor that has seen nothing of the log yet. */
export function initialState(origin: string, logKey: string): MonitorState {
  return {
    format: STATE_FORMAT,
    version: 1,
    origin,
    logKey,
    size: 0,
    rootHash: toHex(emptyRoot()),
    border: [],
    checkpoint: null,
    heads: {},
    registry: [],
    witnesses: {},
    outbox: [],
    updatedAt: new Date(0).toISOString(),
  };
}

/** Validates a state value (throws STATE_INVALID naming the field). */
export function parseState(value: unknown, where = 'state'): MonitorState {
  const r = monitorStateSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const field = i.path.join('.') || '(root)';
    throw new MonitorError('STATE_INVALID', `${where}: ${field}: ${i.message}`, { field });
  }
  return r.data;
}

/** Reads a state file; undefined when it does not exist. */
export function loadState(path: string): MonitorState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MonitorError(
      'STATE_INVALID',
      `state file ${path}: ${(e as Error).message}`,
      { path },
      { cause: e },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new MonitorError('STATE_INVALID', `state file ${path}: not JSON (${(e as Error).message})`, {
      path,
    });
  }
  return parseState(value, `state file ${path}`);
}

/** Writes the state atomically: a temp file in the same directory, fsync, rename, fsync of the directory. */
export function saveState(path: string, state: MonitorState): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 1)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // The rename itself is durable only once the directory is synced (not possible everywhere).
  try {
    const d = openSync(dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    // Some platforms cannot open a directory for fsync; the rename is still atomic.
  }
}
