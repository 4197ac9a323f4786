// keygen: a new Ed25519 signing key, written as a private key file (mode 0600, never
// overwritten unless --force); prints the verifier key text to register or publish.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  formatVerifierKey,
  generateSigningKey,
  writeSigningKeyFile,
  CryptoError,
} from '@civic-ledger/crypto';
import { KEY_NAME } from '@civic-ledger/schemas';
import { z } from 'zod';
import { nonEmpty } from '../args.ts';
import { defineCommand } from '../command.ts';
import { CliError, EXIT } from '../errors.ts';

const HELP = `Usage: civic-ledger keygen --name <org>/<label> --out <file> [--force] [--json]

Creates an Ed25519 signing key named <org>/<label> (the ledger's key name rule), writes its
private key text (PRIVATE+KEY+...) to <file> with mode 0600, and prints the verifier key
text (<name>+<key id>+<base64>): register it with 'civic-ledger register key-add', or have
the operator add it.

Flags:
  --name <org>/<label>  key name, e.g. transport-agency/2026-01 (required)
  --out <file>          private key file to create (required; refused if it exists)
  --force               overwrite an existing file
  --json                print { name, keyId, verifierKey, file } as JSON

Exit codes: 0 written, 2 usage (bad name, file exists), 3 could not write.
`;

const schema = z.object({
  name: z
    .string()
    .regex(
      KEY_NAME,
      'a key name <organization>/<label>: organization ^[a-z][a-z0-9-]{1,47}$, label [A-Za-z0-9._-]{1,64}',
    ),
  out: nonEmpty,
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

export const command = defineCommand({
  spec: {
    name: 'keygen',
    summary: 'create a signing key file',
    help: HELP,
    options: {
      name: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    schema,
  },
  async run(v, io) {
    const file = resolve(io.cwd, v.out);
    const key = generateSigningKey(v.name);
    try {
      mkdirSync(dirname(file), { recursive: true });
      // --force replaces the file rather than truncating it, so the new one gets mode 0600
      // even when the old one had looser permissions.
      if (v.force) rmSync(file, { force: true });
      writeSigningKeyFile(file, key);
    } catch (e) {
      if (e instanceof CryptoError && e.code === 'KEY_FILE_EXISTS') {
        throw new CliError('USAGE', `--out: ${file} exists (use --force to overwrite it)`);
      }
      throw new CliError('IO_ERROR', `could not write ${file}: ${(e as Error).message}`, { cause: e });
    }
    const verifierKey = formatVerifierKey(key);
    if (v.json) {
      io.out(`${JSON.stringify({ name: key.name, keyId: key.keyIdHex, verifierKey, file })}\n`);
    } else {
      io.out(`${verifierKey}\n`);
      io.err(`wrote the private key to ${file} (mode 0600); keep it secret\n`);
    }
    return EXIT.OK;
  },
});
