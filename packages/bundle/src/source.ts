// A LogSource over a full bundle's files, read as a stream: verifyLog(bundleSource(dir))
// holds one chunk of entries at a time, whatever the bundle's size. Like any source it is
// untrusted: a line that is not an entry is handed over as an empty leaf, so the verifier
// reports LEAF_MALFORMED at its position (and `lineError` says what was wrong with it).
import { join } from 'node:path';
import type { LogSource, SourceLeaf } from '@civic-ledger/verifier';
import { CHECKPOINTS_FILE, ENTRIES_FILE, checkpointLine, fullEntryLine } from './format.ts';
import { digestFile, parseLine, readLines } from './jsonl.ts';

export interface BundleSource extends LogSource {
  /** Why the line at this position is not an entry, if it was not one. */
  lineError(index: number): string | undefined;
}

const encoder = new TextEncoder();
const lossy = new TextDecoder();

/**
 * A source over `entries.jsonl` and `checkpoints.jsonl` of a bundle directory. `size`
 * (when known, e.g. from a checked manifest) saves counting the lines.
 */
export function bundleSource(dir: string, options: { size?: number } = {}): BundleSource {
  const entriesPath = join(dir, ENTRIES_FILE);
  let lines: AsyncGenerator<Buffer> | undefined;
  let position = 0;
  const errors = new Map<number, string>();

  async function restart(): Promise<void> {
    await lines?.return(undefined);
    lines = readLines(entriesPath);
    position = 0;
  }

  return {
    async size() {
      if (options.size !== undefined) return options.size;
      const d = await digestFile(entriesPath);
      return d.lines + (d.terminated ? 0 : 1);
    },

    async leaves(from, to) {
      const out: SourceLeaf[] = [];
      if (!(to > from)) return out;
      if (lines === undefined || from < position) await restart();
      while (position < to) {
        const next = await lines!.next();
        if (next.done) break;
        const at = position++;
        if (at < from) continue;
        const parsed = parseLine(next.value, fullEntryLine);
        if (parsed.ok) {
          out.push({ leaf: encoder.encode(parsed.value.leaf), index: parsed.value.index });
        } else {
          errors.set(at, `${ENTRIES_FILE} line ${at + 1}: ${parsed.why}`);
          out.push({ leaf: new Uint8Array(0) });
        }
      }
      return out;
    },

    async checkpoints() {
      const notes: string[] = [];
      for await (const line of readLines(join(dir, CHECKPOINTS_FILE))) {
        const parsed = parseLine(line, checkpointLine);
        // Not a checkpoint line: its text goes to the verifier, which cannot open it.
        notes.push(parsed.ok ? parsed.value.note : lossy.decode(line));
      }
      return notes;
    },

    lineError: (index) => errors.get(index),
  };
}
