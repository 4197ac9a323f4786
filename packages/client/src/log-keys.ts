// The log keys a client pins: one key (`logKey`), or, for a log whose key was rotated, several
// keys each with a validity window over tree sizes (`logKeys`, the verifier's LogKeyWindow
// shape). A checkpoint of size n is opened with the keys whose window holds n; a receipt for
// ledger index i is accepted from a key whose window holds i.
import { parseVerifierKey, type VerifierKey } from '@civic-ledger/crypto';
import {
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  verifierFromKeyText,
  type NoteVerifier,
  type VerifiedCheckpoint,
} from '@civic-ledger/signed-note';
import { z } from 'zod';
import { ClientError } from './errors.ts';

/**
 * A log key with its validity window, inclusive at both ends: it signs checkpoints of tree
 * size n with fromSize <= n <= untilSize (the same shape as @civic-ledger/verifier's).
 */
export interface LogKeyWindow {
  /** C2SP verifier-key text. */
  key: string;
  /** The smallest tree size it signs (default 0). */
  fromSize?: number;
  /** The largest tree size it signs (default: no end). */
  untilSize?: number;
}

const size = z.number().int('an integer').min(0, 'an integer >= 0').max(Number.MAX_SAFE_INTEGER);

/** `logKeys`: at least one window, oldest key first; untilSize >= fromSize. */
export const logKeysSchema = z
  .array(
    z
      .strictObject({ key: z.string().min(1), fromSize: size.optional(), untilSize: size.optional() })
      .refine((k) => k.untilSize === undefined || k.untilSize >= (k.fromSize ?? 0), {
        message: 'untilSize must be >= fromSize',
        path: ['untilSize'],
      }),
  )
  .min(1, 'at least one key');

interface PinnedKey {
  text: string;
  verifier: NoteVerifier;
  receiptKey: VerifierKey;
  from: number;
  until: number;
}

/** The pinned keys, parsed once; `current` is the last one (it signs receipts now). */
/** openCheckpoint, its refusal as CHECKPOINT_UNVERIFIED naming the signed-note error code. */
export function openOrRefuse(note: string, verifiers: NoteVerifier[], origin: string): VerifiedCheckpoint {
  try {
    return openCheckpoint(note, { verifiers, origin });
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    throw new ClientError(
      'CHECKPOINT_UNVERIFIED',
      `checkpoint refused: ${(cause as Error).message ?? String(cause)}`,
      {
        details: { reason: typeof code === 'string' ? code : 'UNKNOWN' },
        cause,
      },
    );
  }
}

export class LogKeyRing {
  readonly #keys: readonly PinnedKey[];
  /** The windows as given (a single `logKey` is one window with no bounds). */
  readonly windows: readonly LogKeyWindow[];

  private constructor(keys: PinnedKey[], windows: LogKeyWindow[]) {
    this.#keys = keys;
    this.windows = windows;
  }

  /**
   * From `{ logKey }` or `{ logKeys }` (exactly one): INVALID_ARGUMENT naming the option
   * (`<prefix>logKeys[1].key`, ...) for anything else.
   */
  static of(
    pinned: { logKey?: string | undefined; logKeys?: readonly LogKeyWindow[] | undefined },
    prefix = '',
  ): LogKeyRing {
    if ((pinned.logKey === undefined) === (pinned.logKeys === undefined))
      throw new ClientError(
        'INVALID_ARGUMENT',
        `${prefix}logKey, ${prefix}logKeys: give exactly one of the two`,
      );
    let windows: LogKeyWindow[];
    if (pinned.logKey !== undefined) {
      windows = [{ key: pinned.logKey.trim() }];
    } else {
      const parsed = logKeysSchema.safeParse(pinned.logKeys);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        const where = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
        throw new ClientError('INVALID_ARGUMENT', `${prefix}logKeys${where}: ${i.message}`);
      }
      windows = parsed.data.map((k) => ({
        key: k.key.trim(),
        ...(k.fromSize === undefined ? {} : { fromSize: k.fromSize }),
        ...(k.untilSize === undefined ? {} : { untilSize: k.untilSize }),
      }));
    }
    const keys = windows.map((w, i) => {
      const option = pinned.logKey !== undefined ? `${prefix}logKey` : `${prefix}logKeys[${i}].key`;
      try {
        return {
          text: w.key,
          verifier: verifierFromKeyText(w.key),
          receiptKey: parseVerifierKey(w.key),
          from: w.fromSize ?? 0,
          until: w.untilSize ?? Infinity,
        };
      } catch (cause) {
        throw new ClientError(
          'INVALID_ARGUMENT',
          `${option}: a C2SP verifier key text <name>+<key id>+<base64>`,
          {
            cause,
          },
        );
      }
    });
    return new LogKeyRing(keys, windows);
  }

  /** The current key (the last): the log's name, what a single-key caller would pin. */
  get current(): string {
    return this.#keys.at(-1)!.text;
  }

  /** Every pinned key text, oldest first. */
  get keys(): string[] {
    return this.#keys.map((k) => k.text);
  }

  /** Note verifiers of the keys whose window holds tree size `n`. */
  verifiersAt(n: number): NoteVerifier[] {
    return this.#keys.filter((k) => k.from <= n && n <= k.until).map((k) => k.verifier);
  }

  /** Receipt keys of the keys whose window holds ledger index `index`. */
  receiptKeysAt(index: number): VerifierKey[] {
    return this.#keys.filter((k) => k.from <= index && index <= k.until).map((k) => k.receiptKey);
  }

  /**
   * Opens a checkpoint note with the keys valid at its size: it needs a valid signature of
   * one of them (CHECKPOINT_UNVERIFIED otherwise, details.reason the signed-note code, or
   * NO_KEY_AT_SIZE when no pinned key's window holds its size).
   */
  open(note: string, origin: string): VerifiedCheckpoint {
    // The size is read unverified only to pick the keys; the note is then opened with them.
    let claimed: number | undefined;
    try {
      claimed = parseCheckpoint(parseNote(note).text).size;
    } catch {
      claimed = undefined;
    }
    const verifiers = claimed === undefined ? this.#keys.map((k) => k.verifier) : this.verifiersAt(claimed);
    if (verifiers.length === 0) {
      throw new ClientError(
        'CHECKPOINT_UNVERIFIED',
        `checkpoint refused: no pinned log key is valid at tree size ${claimed}`,
        { details: { reason: 'NO_KEY_AT_SIZE', size: claimed } },
      );
    }
    return openOrRefuse(note, verifiers, origin);
  }
}
