// The log-keys file: the keys of a log whose key was rotated, each with its validity window
// over tree sizes (inclusive; @civic-ledger/verifier's LogKeyWindow), oldest first. One
// parser for everything that reads such a file: the CLI's `--log-keys` and the monitor
// service's CIVIC_LEDGER_LOG_KEYS_FILE, so both accept and refuse exactly the same files.
import { parseVerifierKey } from '@civic-ledger/crypto';
import type { LogKeyWindow } from '@civic-ledger/verifier';
import { z } from 'zod';
import { MonitorError } from './errors.ts';

const size = z
  .number()
  .int('an integer')
  .min(0, 'an integer >= 0')
  .max(Number.MAX_SAFE_INTEGER, 'an integer <= 2^53 - 1');

const keyText = z
  .string()
  .transform((s) => s.trim())
  .refine((s) => {
    try {
      parseVerifierKey(s);
      return true;
    } catch {
      return false;
    }
  }, 'a verifier key text <name>+<8 hex key id>+<base64 key>');

/** The file: `[{ "key": "<verifier key text>", "fromSize"?: n, "untilSize"?: n }]`, oldest key first. */
export const logKeysFileSchema = z
  .array(
    z
      .strictObject({ key: keyText, fromSize: size.optional(), untilSize: size.optional() })
      .refine((k) => k.untilSize === undefined || k.untilSize >= (k.fromSize ?? 0), {
        message: 'untilSize must be >= fromSize',
        path: ['untilSize'],
      }),
  )
  .min(1, 'at least one key');

/**
 * Parses the file's text (JSON of logKeysFileSchema) into windows, keys trimmed. Anything else
 * is a MonitorError INVALID_CONFIG whose message names the member and the rule
 * (`[1].key: a verifier key text ...`, `(file): not JSON ...`); `details.member` and
 * `details.rule` hold them apart. The text itself is never quoted.
 */
export function parseLogKeysFile(text: string): LogKeyWindow[] {
  function fail(member: string, rule: string, cause?: unknown): never {
    throw new MonitorError(
      'INVALID_CONFIG',
      `${member || '(file)'}: ${rule}`,
      { option: 'logKeys', member, rule },
      { cause },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail('', `not JSON (${(e as Error).message})`, e);
  }
  const parsed = logKeysFileSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const member = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    fail(
      member,
      i.code === 'unrecognized_keys'
        ? `unknown member(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : i.message,
    );
  }
  return parsed.data.map((k) => ({
    key: k.key,
    ...(k.fromSize === undefined ? {} : { fromSize: k.fromSize }),
    ...(k.untilSize === undefined ? {} : { untilSize: k.untilSize }),
  }));
}
