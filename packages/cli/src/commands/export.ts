// export: an evidence bundle as plain files (see @civic-ledger/bundle): full (every entry
// up to the latest signed checkpoint, every checkpoint) or partial (chosen events with
// what is needed to check them, each with an inclusion proof against one checkpoint).
// The written bundle is then verified offline with the pinned key unless --no-verify.
import { resolve } from 'node:path';
import { z } from 'zod';
import { HEX_HASH, intFlag, nonEmpty } from '../args.ts';
import { defineCommand } from '../command.ts';
import { loadConfigFile, requireUrl, resolveOrigin } from '../config.ts';
import { CliError, EXIT, describe } from '../errors.ts';
import { progressBar, type Io } from '../io.ts';
import { LOG_KEYS_HELP, pinnedKeys } from '../log-keys.ts';
import { LOG_HELP, LOG_OPTIONS, jsonSchema, ledgerFetch, logSchema } from './common.ts';
import { verifyBundleReport } from './verify.ts';

const HELP = `Usage: civic-ledger export --url <url> (--log-key <key> | --log-keys <file>) --out <dir> [--events <hash,...>] [--indexes <i,...>]

Writes an evidence bundle as plain files into <dir> (created; must be empty):
  full     (default) every entry up to the latest signed checkpoint, and every checkpoint:
           'civic-ledger verify --bundle <dir>' re-verifies the whole log offline
  partial  with --events and/or --indexes: the chosen events, the events needed to check
           their signatures (key additions, registrations, known revocations), each with
           its RFC 9162 inclusion proof against one signed checkpoint
Files: bundle.json (manifest with file digests), entries.jsonl, checkpoints.jsonl, and for
partial bundles proofs.jsonl. The bundle is then verified with the pinned key.

Flags:
${LOG_HELP}
${LOG_KEYS_HELP}.
                          The manifest names the last key valid at the bundle's tree size;
                          verify it with the same file (verify --bundle --log-keys)
  --out <dir>             the bundle directory (required)
  --events <hashes>       event hashes, comma-separated (repeatable): a partial bundle
  --indexes <indexes>     ledger indexes, comma-separated (repeatable): a partial bundle
  --checkpoint <size>     partial: prove against the checkpoint of this tree size
                          (default the latest)
  --no-verify             do not verify the bundle after writing it
  --json                  print { ok, kind, dir, entries, checkpoints, treeSize, verified }

Exit codes: 0 written (and verified), 1 the written bundle does not verify with the pinned
key (it is left in place to inspect), 2 usage (bad flag, --out not empty), 3 could not
export (server unreachable, an event not in the log).
`;

const list = (rule: z.ZodString) =>
  z
    .array(z.string())
    .transform((parts) =>
      parts
        .flatMap((p) => p.split(','))
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(rule));

const schema = z.object({
  ...logSchema,
  'log-keys': nonEmpty.optional(),
  out: nonEmpty,
  events: list(z.string().regex(HEX_HASH, 'event hashes: 64 lower-case hex digits each')).optional(),
  indexes: list(z.string().regex(/^\d+$/, 'ledger indexes: decimal integers')).optional(),
  checkpoint: intFlag(1).optional(),
  verify: z.boolean().default(true),
  json: jsonSchema,
});
type Values = z.output<typeof schema>;

function bundleErrorToCli(e: unknown): unknown {
  if (!(e instanceof Error) || e.name !== 'BundleError') return e;
  const code = (e as Error & { code: string }).code;
  if (code === 'DIR_NOT_EMPTY') return new CliError('USAGE', `--out: ${e.message}`, { cause: e });
  if (code === 'INVALID_OPTIONS') return new CliError('USAGE', e.message, { cause: e });
  return new CliError('SERVER_ERROR', `${code}: ${e.message}`, { cause: e });
}

async function runExport(v: Values, io: Io): Promise<number> {
  const { config } = loadConfigFile(io, v.config);
  const url = requireUrl(v.url, config, 'export');
  // With --log-keys (a rotated log) the last key stands for the log: the default origin.
  const { logKey, logKeys } = await pinnedKeys(io, v, config);
  const pinned = logKeys === undefined ? { logKey } : { logKeys };
  const origin = resolveOrigin(v.origin, config, logKey);
  const dir = resolve(io.cwd, v.out);
  const hashes = v.events ?? [];
  const indexes = (v.indexes ?? []).map(Number);
  const partial = hashes.length + indexes.length > 0;
  if (!partial && v.checkpoint !== undefined) {
    throw new CliError('USAGE', '--checkpoint: only for a partial bundle (with --events or --indexes)');
  }
  const [{ writeFullBundle, writePartialBundle, httpProofProvider }, { httpSource }] = await Promise.all([
    import('@civic-ledger/bundle'),
    import('@civic-ledger/verifier'),
  ]);
  const progress = progressBar(io, 'exporting', 'entries');
  let manifest;
  try {
    const authorized = ledgerFetch(io, v, url);
    const source = httpSource(url, { fetch: authorized });
    manifest = partial
      ? await writePartialBundle(dir, source, {
          ...pinned,
          origin,
          hashes,
          indexes,
          proofs: httpProofProvider(url, { fetch: authorized }),
          ...(v.checkpoint === undefined ? {} : { checkpoint: v.checkpoint }),
          onProgress: (d, t) => progress.update(d, t),
        })
      : await writeFullBundle(dir, source, {
          ...pinned,
          origin,
          onProgress: (d, t) => progress.update(d, t),
        });
  } catch (e) {
    const mapped = bundleErrorToCli(e);
    if (mapped instanceof CliError) throw mapped;
    throw new CliError('SERVER_ERROR', `could not export from ${url}: ${describe(e)}`, { cause: e });
  } finally {
    progress.done();
  }
  let verified: boolean | null = null;
  let failure = '';
  if (v.verify) {
    const report = await verifyBundleReport(io, dir, {
      logKey,
      logKeys,
      origin,
      checkSignatures: true,
      threads: 0,
    });
    verified = report.ok;
    if (!report.ok) failure = `${report.check} — ${report.message}`;
  }
  const counts = manifest.counts;
  const summary = {
    ok: verified !== false,
    kind: manifest.kind,
    dir,
    entries: counts.entries,
    checkpoints: counts.checkpoints,
    treeSize: manifest.treeSize,
    verified,
  };
  if (v.json) {
    io.out(`${JSON.stringify(verified === false ? { ...summary, failure } : summary)}\n`);
  } else {
    io.out(
      `wrote a ${manifest.kind} bundle to ${dir}: ${counts.entries} entries, ${counts.checkpoints} checkpoints, tree size ${manifest.treeSize}\n`,
    );
    if (verified === true) io.out('verified offline with the pinned log key\n');
    if (verified === false) io.out(`FAILED: the bundle does not verify: ${failure}\n`);
  }
  return verified === false ? EXIT.VERIFICATION_FAILED : EXIT.OK;
}

export const command = defineCommand({
  spec: {
    name: 'export',
    summary: 'write an evidence bundle',
    help: HELP,
    options: {
      ...LOG_OPTIONS,
      'log-keys': { type: 'string' },
      out: { type: 'string' },
      events: { type: 'string', multiple: true },
      indexes: { type: 'string', multiple: true },
      checkpoint: { type: 'string' },
      verify: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    schema,
  },
  run: runExport,
});
