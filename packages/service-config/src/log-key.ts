// Log key rotation, for every service that signs checkpoints (standalone, sequencer): the next
// log key co-signs every checkpoint during the overlap. Moved here from the standalone service
// so both read and check it by the same rules.
import { formatVerifierKey, readSigningKeyFile, type SigningKey } from '@civic-ledger/crypto';
import { ConfigError } from './index.ts';

/** The variable naming the next log key's private key file. */
export const NEXT_LOG_KEY_VARIABLE = 'CIVIC_LEDGER_NEXT_LOG_KEY_FILE';

/**
 * Reads the next log key of a rotation: it must exist (it is never created: its verifier key
 * is published before it signs), be private like the log key (mode 0600), carry the current
 * key's name (verifiers and witnesses know the log by it) and be another key. Each failure is
 * a ConfigError naming the variable, the file and the rule.
 */
export function loadNextLogKey(
  path: string,
  current: SigningKey,
  variable: string = NEXT_LOG_KEY_VARIABLE,
): SigningKey {
  let key: SigningKey;
  try {
    key = readSigningKeyFile(path);
  } catch (e) {
    const rule =
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${path}: an existing private key file (generate it first: civic-ledger keygen)`
        : `${path}: ${(e as Error).message}`;
    throw new ConfigError([{ variable, rule }]);
  }
  if (key.name !== current.name)
    throw new ConfigError([
      {
        variable,
        rule: `${path}: the key is named ${JSON.stringify(key.name)}, not ${JSON.stringify(current.name)} as the log key`,
      },
    ]);
  if (formatVerifierKey(key) === formatVerifierKey(current))
    throw new ConfigError([{ variable, rule: `${path}: the same key as the current log key` }]);
  return key;
}
