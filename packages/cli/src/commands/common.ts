// Flags and checks several commands share.
import type { ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { nonEmpty, urlFlag, verifierKeyFlag } from '../args.ts';

/** --config, --url, --log-key, --origin: how to reach and trust a log. */
export const LOG_OPTIONS = {
  config: { type: 'string' },
  url: { type: 'string' },
  'log-key': { type: 'string' },
  origin: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const logSchema = {
  config: nonEmpty.optional(),
  url: urlFlag.optional(),
  'log-key': verifierKeyFlag.optional(),
  origin: nonEmpty.optional(),
};

export const LOG_HELP = `  --url <url>             the ledger's base URL, e.g. http://127.0.0.1:8080
  --log-key <key>         the log's verifier key text, pinned: get it from the operator out of
                          band (it is never taken from the server)
  --origin <origin>       the log's origin line (default: the log key's name)
  --config <file>         config file (default ./civic-ledger.json when present)`;

export const jsonSchema = z.boolean().default(false);
