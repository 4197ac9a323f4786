// proof: proves one event is in the log. Opens the latest checkpoint with the pinned log
// key (never a key from the server; with --log-keys, a key whose window holds its size),
// fetches the entry and its RFC 9162 inclusion proof at that checkpoint's size, recomputes
// the leaf hash and the root, and prints the evidence.
import { z } from 'zod';
import { HEX_HASH, intFlag } from '../args.ts';
import { defineCommand } from '../command.ts';
import { loadConfigFile, requireUrl, resolveOrigin } from '../config.ts';
import { CliError, EXIT } from '../errors.ts';
import type { Io } from '../io.ts';
import { LOG_KEYS_HELP, LOG_KEYS_OPTIONS, logKeysFlagSchema, pinOf, pinnedKeys } from '../log-keys.ts';
import { LOG_HELP, LOG_OPTIONS, jsonSchema, ledgerFetch, logSchema } from './common.ts';
import { fromClientError } from './submit.ts';

const HELP = `Usage: civic-ledger proof --url <url> (--log-key <key> | --log-keys <file>) (--hash <event hash> | --index <n>) [--json]

Proves that one event is in the log: opens the latest signed checkpoint with the pinned log
key, fetches the entry and its RFC 9162 inclusion proof at that checkpoint's tree size,
recomputes the event hash, the leaf hash and the root from the proof, and prints the
evidence (leaf, checkpoint, proof: checkable offline with the log key alone). Waits up to
--wait-ms for a checkpoint that covers a brand-new entry.

Flags:
${LOG_HELP}
${LOG_KEYS_HELP}
  --hash <hex>            the event hash (64 lower-case hex)
  --index <n>             ...or the ledger index
  --wait-ms <ms>          how long to wait for a covering checkpoint (default 3000)
  --json                  print { ok, eventHash, index, leafHash, treeSize, rootHash, proof,
                          checkpoint, leaf }, or { ok: false, error: { code, message } }

Exit codes: 0 proven, 1 not proven (not in the log, the proof or the checkpoint does not
verify with the pinned key), 2 usage, 3 could not ask (server unreachable, no checkpoint
covers the entry yet).
`;

const schema = z.object({
  ...logSchema,
  ...logKeysFlagSchema,
  hash: z.string().regex(HEX_HASH, 'an event hash: 64 lower-case hex digits').optional(),
  index: intFlag(0).optional(),
  'wait-ms': intFlag(0, 600_000).default(3000),
  json: jsonSchema,
});
type Values = z.output<typeof schema>;

async function runProof(v: Values, io: Io): Promise<number> {
  if ((v.hash === undefined) === (v.index === undefined)) {
    throw new CliError(
      'USAGE',
      v.hash === undefined ? '--hash or --index: required' : '--hash and --index: give one',
    );
  }
  const { config } = loadConfigFile(io, v.config);
  const url = requireUrl(v.url, config, 'proof');
  // With --log-keys (a rotated log) the last key stands for the log: the default origin.
  const pinned = await pinnedKeys(io, v, config);
  const origin = resolveOrigin(v.origin, config, pinned.logKey);
  const [{ LedgerClient, ClientError }, { toHex }] = await Promise.all([
    import('@civic-ledger/client'),
    import('@civic-ledger/crypto'),
  ]);
  const fail = (code: string, message: string, exit: number): number => {
    if (v.json) io.out(`${JSON.stringify({ ok: false, error: { code, message } })}\n`);
    else io.out(`FAILED: ${code} — ${message}\n`);
    return exit;
  };
  try {
    const client = new LedgerClient({
      baseUrl: url,
      ...pinOf(pinned),
      origin,
      fetch: ledgerFetch(io, v, url),
    });
    const hash = v.hash ?? (await client.getEntry(v.index!)).eventHash;
    const { evidence, checkpoint } = await client.verifyInclusion(hash, { waitMs: v['wait-ms'] });
    if (v.index !== undefined && evidence.index !== v.index) {
      return fail(
        'PROOF_INVALID',
        `asked for index ${v.index}, the log proves event ${hash} at index ${evidence.index}`,
        EXIT.VERIFICATION_FAILED,
      );
    }
    const rootHash = toHex(checkpoint.rootHash);
    if (v.json) {
      io.out(
        `${JSON.stringify({
          ok: true,
          eventHash: evidence.eventHash,
          index: evidence.index,
          leafHash: evidence.leafHash,
          treeSize: checkpoint.size,
          rootHash,
          proof: evidence.proof,
          checkpoint: evidence.checkpoint,
          leaf: evidence.leaf,
        })}\n`,
      );
    } else {
      io.out(
        [
          `OK: event ${evidence.eventHash} is in the log at index ${evidence.index}`,
          `  checkpoint  tree size ${checkpoint.size}, root ${rootHash}, signed by the pinned log key`,
          `  leaf hash   ${evidence.leafHash}`,
          `  proof       ${evidence.proof.length} hashes${evidence.proof.length ? ':' : ''}`,
          ...evidence.proof.map((h) => `    ${h}`),
          '',
        ].join('\n'),
      );
    }
    return EXIT.OK;
  } catch (e) {
    if (e instanceof ClientError) {
      if (e.code === 'NOT_FOUND') {
        return fail(
          'NOT_FOUND',
          `${v.hash === undefined ? `index ${v.index}` : `event ${v.hash}`} is not in the log`,
          EXIT.VERIFICATION_FAILED,
        );
      }
      if (e.code === 'PROOF_INVALID' || e.code === 'CHECKPOINT_UNVERIFIED')
        return fail(e.code, e.message, EXIT.VERIFICATION_FAILED);
      if (e.code === 'NOT_COVERED') return fail(e.code, `${e.message}; try again later`, EXIT.FAILED);
    }
    throw fromClientError(e);
  }
}

export const command = defineCommand({
  spec: {
    name: 'proof',
    summary: 'prove one event is in the log',
    help: HELP,
    options: {
      ...LOG_OPTIONS,
      ...LOG_KEYS_OPTIONS,
      hash: { type: 'string' },
      index: { type: 'string' },
      'wait-ms': { type: 'string' },
      json: { type: 'boolean' },
    },
    schema,
  },
  run: runProof,
});
