// lineage: the lineage HTTP API (/v1/lineage/*, see @civic-ledger/lineage-http) from the
// command line. Every answer says what it stands for: the tree size (asOf) and whether it is
// complete; a cut answer (depth, page, filters, time window, as-of) is printed INCOMPLETE
// with its reasons, never as if complete. With the pinned log key the checkpoint a trace
// names is opened with it (never a key from the server; with --log-keys, with a key whose
// window holds its size); `bundle` writes a partial evidence bundle and verifies it offline
// like `verify --bundle`.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { HEX_HASH, intFlag, nonEmpty } from '../args.ts';
import { defineCommand } from '../command.ts';
import { loadConfigFile, requireUrl, resolveOrigin } from '../config.ts';
import { CliError, EXIT, describe } from '../errors.ts';
import type { Io } from '../io.ts';
import {
  LOG_KEYS_HELP,
  LOG_KEYS_OPTIONS,
  logKeysFlagSchema,
  optionalPinnedKeys,
  pinOf,
  pinnedKeys,
  type PinnedKeys,
} from '../log-keys.ts';
import { LOG_HELP, LOG_OPTIONS, authHeaders, jsonSchema, logSchema, parseAnswer } from './common.ts';
import { verifyBundleReport } from './verify.ts';

const HELP = `Usage: civic-ledger lineage <query> --url <url> [--log-key <key> | --log-keys <file>] [flags]

Asks the ledger's lineage API where data came from and where it went. <query>:
  upstream     where the selection came from (follows each movement's inputs)
  downstream   where it went (reuse, onward transfers, derived datasets)
  footprint    everything downstream of a source's collects, summarised (--source)
  flows        transfers per sender -> recipient in a time window (--from, --until)
  export       the trace as a PROV-JSON or OpenLineage document (--format, --out)
  bundle       the trace's events as a partial evidence bundle in --out <dir>, with an
               inclusion proof each, then verified offline with the pinned log key

Every answer is as of a tree size (the entries [0, size) of the log) and says whether it
is complete: "COMPLETE as of tree size S", or "INCOMPLETE as of tree size S: <reasons>"
(depth: links beyond --depth; page: more nodes, see --all / --cursor; filter / time: nodes
hidden by the filters; as-of: later entries extend it; missing: unknown inputs).

With --log-key (or --log-keys), upstream/downstream open the answer's signed checkpoint
with the pinned key ("checkpoint: size S signed by the pinned log key"); without it the
answer is printed as unverified. The checkpoint says which signed tree the answer stands for; 'bundle'
proves every node is in it.

Selection (upstream, downstream, export, bundle; exactly one start):
  --event <hash>          one event (64 lower-case hex)
  --dataset <id>          every movement of a dataset (<org>/<name>)
  --version <digest>      with --dataset: only that version (sha256:<64 hex>)
  --source <id>           every collect of a source (also: footprint's source)
  --direction <dir>       export, bundle: upstream (default) or downstream
  --depth <n>             steps from the start, 0..50 (default 10; footprint: 50)
  --purpose <terms>       only nodes with this purpose (repeatable or comma list)
  --organization <orgs>   only nodes emitted or received by these (repeatable or comma list)
  --type <types>          only these movements: collect transfer derive use publish delete
  --from <time>           only nodes claimed at or after this time (RFC 3339); flows: window start
  --until <time>          only nodes claimed before this time (RFC 3339); flows: window end
  --as-of <size>          answer as of this tree size (default: the whole log)
  --limit <n>             nodes per page, 1..1000 (default 1000)
  --cursor <cursor>       the next page of an earlier answer (same selection)
  --all                   upstream, downstream: follow the pages to the end (progress on stderr)

Output:
  --format <f>            export: prov (PROV-JSON) or openlineage (OpenLineage run events)
  --out <path>            export: the file to write (must not exist); bundle: the directory
                          (created; must be empty)
  --json                  print the API's answer as JSON (plus checkpointVerified: true, or
                          null without a log key; bundle/export: a summary)

Flags:
${LOG_HELP}
${LOG_KEYS_HELP}

Exit codes: 0 answered (an INCOMPLETE answer is still 0: read the completeness line),
1 verification failed (the checkpoint or the bundle does not verify with the pinned key),
2 usage (bad flag, or the server refused a parameter: the flag is named), 3 could not ask
(server unreachable, or an HTTP error such as NOT_FOUND for an unknown event: its code
and message are printed).
`;

const QUERIES = ['upstream', 'downstream', 'footprint', 'flows', 'export', 'bundle'] as const;
const TYPES = ['collect', 'transfer', 'derive', 'use', 'publish', 'delete'] as const;

/** A repeatable flag whose values may also be comma lists. */
const list = (rule: z.ZodType<string, string>) =>
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
  ...logKeysFlagSchema,
  query: z.enum(QUERIES, { error: `one of ${QUERIES.join(', ')}` }),
  event: z.string().regex(HEX_HASH, 'an event hash: 64 lower-case hex digits').optional(),
  dataset: nonEmpty.optional(),
  version: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, 'a dataset version: sha256:<64 lower-case hex>')
    .optional(),
  source: nonEmpty.optional(),
  direction: z.enum(['upstream', 'downstream'], { error: 'upstream or downstream' }).optional(),
  depth: intFlag(0, 50).optional(),
  purpose: list(nonEmpty).optional(),
  organization: list(nonEmpty).optional(),
  type: list(z.enum(TYPES, { error: `movement types: ${TYPES.join(', ')}` })).optional(),
  from: nonEmpty.optional(),
  until: nonEmpty.optional(),
  'as-of': intFlag(0).optional(),
  limit: intFlag(1, 1000).optional(),
  cursor: nonEmpty.optional(),
  all: z.boolean().default(false),
  format: z.enum(['prov', 'openlineage'], { error: 'prov or openlineage' }).optional(),
  out: nonEmpty.optional(),
  json: jsonSchema,
});
type Values = z.output<typeof schema>;

// The answers, checked before use: a malformed answer is the server's fault (exit 3).
const incompleteness = z.object({
  reason: z.string(),
  count: z.number().int().optional(),
  detail: z.string(),
});
const completeness = {
  complete: z.boolean(),
  incomplete: z.array(incompleteness),
  asOf: z.number().int().nonnegative(),
};
const node = z.looseObject({
  event: z.string(),
  index: z.number().int(),
  type: z.string(),
  emitter: z.string(),
  purpose: z.string(),
  recipient: z.string().optional(),
  source: z.string().optional(),
  dataset: z.object({ id: z.string(), version: z.string() }),
  time: z.string(),
  depth: z.number().int(),
});
const checkpointRef = z.object({ size: z.number().int(), note: z.string(), exact: z.boolean() }).nullable();
const traceAnswer = z.looseObject({
  nodes: z.array(node),
  edges: z.array(z.object({ from: z.string(), to: z.string() })),
  ...completeness,
  next: z.string().optional(),
  checkpoint: checkpointRef,
});
type TraceAnswer = z.output<typeof traceAnswer>;
type Incompleteness = z.output<typeof incompleteness>;
const footprintAnswer = z.looseObject({
  source: z.string(),
  collects: z.number(),
  events: z.number(),
  types: z.record(z.string(), z.number()),
  datasets: z.array(z.object({ id: z.string(), versions: z.number(), events: z.number() })),
  organizations: z.array(
    z.object({
      org: z.string(),
      received: z.object({ transfers: z.number(), purposes: z.array(z.string()) }),
      handled: z.object({
        events: z.number(),
        types: z.record(z.string(), z.number()),
        purposes: z.array(z.string()),
      }),
    }),
  ),
  depth: z.number(),
  ...completeness,
});
const flowsAnswer = z.looseObject({
  from: z.string(),
  until: z.string(),
  flows: z.array(
    z.object({
      from: z.string(),
      to: z.string(),
      transfers: z.number(),
      purposes: z.array(z.object({ purpose: z.string(), transfers: z.number() })),
      categories: z.array(z.object({ category: z.string(), transfers: z.number() })),
    }),
  ),
  ...completeness,
});
const bundleAnswer = z.looseObject({
  manifest: z.record(z.string(), z.unknown()),
  files: z.record(z.string(), z.string()),
  ...completeness,
  next: z.string().optional(),
});
const apiError = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** The flag a query parameter of the API stands for (its issues name parameters). */
const FLAG_OF: Record<string, string> = {
  asOf: '--as-of',
  'event,dataset,source': '--event, --dataset or --source',
};
const flagOf = (param: string) => FLAG_OF[param] ?? `--${param}`;

interface Http {
  get(route: string, params: URLSearchParams): Promise<{ text: string; headers: Headers }>;
}

function http(url: string, auth: Record<string, string> = {}): Http {
  return {
    async get(route, params) {
      const target = `${url}/v1/lineage/${route}?${params.toString()}`;
      let res: Response;
      let text: string;
      try {
        res = await fetch(target, { headers: { accept: 'application/json', ...auth } });
        text = await res.text();
      } catch (e) {
        throw new CliError('SERVER_ERROR', `could not reach ${url}: ${describe(e)}`, { cause: e });
      }
      if (res.ok) return { text, headers: res.headers };
      let body: z.output<typeof apiError> | undefined;
      try {
        body = apiError.parse(JSON.parse(text));
      } catch {
        body = undefined;
      }
      if (body === undefined) {
        throw new CliError('SERVER_ERROR', `HTTP ${res.status} from ${target}: ${text.slice(0, 200)}`);
      }
      // A parameter the server refused is a wrong flag: name it (exit 2).
      if (body.code === 'SCHEMA_INVALID' || body.code.startsWith('CURSOR_')) {
        const issues = z
          .array(z.object({ path: z.string(), rule: z.string() }))
          .catch([])
          .parse(body.details?.['issues']);
        const text = issues.length
          ? issues.map((i) => `${flagOf(i.path.replace(/^\//, ''))}: ${i.rule}`).join('; ')
          : body.code.startsWith('CURSOR_')
            ? `--cursor: ${body.code}: ${body.message}`
            : `${body.code}: ${body.message}`;
        throw new CliError('USAGE', text);
      }
      throw new CliError('SERVER_ERROR', `HTTP ${res.status} ${body.code}: ${body.message}`);
    },
  };
}

/** Selection and filter parameters of trace, export and bundle. */
function selectionParams(v: Values, direction: 'upstream' | 'downstream'): URLSearchParams {
  const starts = [v.event, v.dataset, v.source].filter((s) => s !== undefined).length;
  if (starts !== 1) {
    throw new CliError(
      'USAGE',
      starts === 0
        ? '--event, --dataset or --source: required'
        : '--event, --dataset, --source: give exactly one',
    );
  }
  if (v.version !== undefined && v.dataset === undefined)
    throw new CliError('USAGE', '--version: only with --dataset');
  const p = new URLSearchParams({ direction, depth: String(v.depth ?? 10) });
  if (v.event !== undefined) p.set('event', v.event);
  if (v.dataset !== undefined) p.set('dataset', v.dataset);
  if (v.version !== undefined) p.set('version', v.version);
  if (v.source !== undefined) p.set('source', v.source);
  for (const x of v.purpose ?? []) p.append('purpose', x);
  for (const x of v.organization ?? []) p.append('organization', x);
  for (const x of v.type ?? []) p.append('type', x);
  if (v.from !== undefined) p.set('from', v.from);
  if (v.until !== undefined) p.set('until', v.until);
  if (v['as-of'] !== undefined) p.set('asOf', String(v['as-of']));
  if (v.limit !== undefined) p.set('limit', String(v.limit));
  if (v.cursor !== undefined) p.set('cursor', v.cursor);
  return p;
}

/** Refuses flags the query does not use, so a typo'd intent is not silently ignored. */
function onlyFor(v: Values, flags: readonly (keyof Values)[], allowed: readonly string[]): void {
  for (const f of flags) {
    const value = v[f];
    if (value !== undefined && value !== false && !allowed.includes(v.query)) {
      throw new CliError('USAGE', `--${String(f)}: not for ${v.query} (only ${allowed.join(', ')})`);
    }
  }
}

function reasonText(i: Incompleteness): string {
  return `${i.reason}${i.count === undefined ? '' : ` (${i.count})`}: ${i.detail}`;
}

export function completenessLine(a: {
  complete: boolean;
  incomplete: Incompleteness[];
  asOf: number;
}): string {
  // Never print COMPLETE for an answer with reasons, whatever `complete` says.
  if (a.complete && a.incomplete.length === 0) return `COMPLETE as of tree size ${a.asOf}`;
  const reasons = a.incomplete.length ? a.incomplete.map(reasonText).join('; ') : 'reason not given';
  return `INCOMPLETE as of tree size ${a.asOf}: ${reasons}`;
}

function shortVersion(version: string): string {
  return version.startsWith('sha256:') ? version.slice(0, 7 + 12) : version;
}

/** Columns padded to their widest cell (the last one is not padded). */
function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

function treeText(a: TraceAnswer): string {
  const rows = [['depth', 'index', 'type', 'emitter', 'dataset@version', 'purpose', 'time']];
  for (const n of a.nodes) {
    rows.push([
      `${'  '.repeat(Math.min(n.depth, 20))}${n.depth}`,
      `#${n.index}`,
      n.type,
      n.recipient === undefined ? n.emitter : `${n.emitter} -> ${n.recipient}`,
      `${n.dataset.id}@${shortVersion(n.dataset.version)}`,
      n.purpose,
      n.time,
    ]);
  }
  return table(rows);
}

interface CheckpointCheck {
  verified: boolean | null;
  line: string;
}

async function checkCheckpoint(
  a: TraceAnswer,
  pinned: PinnedKeys | undefined,
  origin: string | undefined,
): Promise<CheckpointCheck> {
  const cp = a.checkpoint;
  if (pinned === undefined || origin === undefined) {
    return {
      verified: null,
      line:
        cp === null
          ? 'checkpoint: none signed at or above this size yet; the answer is unverified'
          : `checkpoint: size ${cp.size} (unverified: no --log-key pinned)`,
    };
  }
  if (cp === null) {
    return {
      verified: null,
      line:
        `checkpoint: none signed at or above tree size ${a.asOf} yet; the answer is unverified ` +
        '(retry after the checkpoint delay, or ask with --as-of <the latest checkpoint size>)',
    };
  }
  // The SDK's key ring: one key, or a rotated log's keys each opening the sizes of its window.
  const { LogKeyRing } = await import('@civic-ledger/client');
  let size: number;
  try {
    size = LogKeyRing.of(pinOf(pinned)).open(cp.note, origin).size;
  } catch (e) {
    throw new CliError(
      'VERIFICATION_FAILED',
      `the answer's checkpoint does not verify with the pinned log key: ${describe(e)}`,
      { cause: e },
    );
  }
  // The signed size must be the one the answer names, and its tree must hold the answer.
  const fits = cp.exact ? size === a.asOf : size > a.asOf;
  if (size !== cp.size || !fits) {
    throw new CliError(
      'VERIFICATION_FAILED',
      `the answer's checkpoint is signed for tree size ${size}, not the ${cp.exact ? 'exact' : 'larger'} size ${cp.size} it names for an answer as of ${a.asOf}`,
    );
  }
  return { verified: true, line: `checkpoint: size ${size} signed by the pinned log key` };
}

interface Trust {
  pinned: PinnedKeys | undefined;
  origin: string | undefined;
}

async function runTrace(v: Values, io: Io, api: Http, trust: Trust): Promise<number> {
  const direction = v.query as 'upstream' | 'downstream';
  const params = selectionParams(v, direction);
  let answer = parseAnswer(traceAnswer, (await api.get('trace', params)).text, 'trace');
  let pages = 1;
  if (v.all) {
    // Later pages re-run at the first page's asOf (the cursor carries it); the last page's
    // reasons are the whole answer's.
    const nodes = [...answer.nodes];
    const edges = [...answer.edges];
    let checkpoint = answer.checkpoint;
    while (answer.next !== undefined) {
      io.err(`page ${pages}: ${nodes.length} nodes so far, fetching the next\n`);
      params.set('cursor', answer.next);
      answer = parseAnswer(traceAnswer, (await api.get('trace', params)).text, 'trace');
      pages++;
      nodes.push(...answer.nodes);
      edges.push(...answer.edges);
      checkpoint = answer.checkpoint ?? checkpoint;
    }
    if (pages > 1) io.err(`${pages} pages: ${nodes.length} nodes\n`);
    answer = { ...answer, nodes, edges, checkpoint };
  }
  const check = await checkCheckpoint(answer, trust.pinned, trust.origin);
  if (v.json) {
    io.out(
      `${JSON.stringify({ ...answer, ...(v.all ? { pages } : {}), checkpointVerified: check.verified })}\n`,
    );
    return EXIT.OK;
  }
  const start =
    v.event !== undefined
      ? `event ${v.event}`
      : v.dataset !== undefined
        ? `dataset ${v.dataset}${v.version === undefined ? '' : `@${v.version}`}`
        : `source ${v.source!}`;
  const lines = [
    `${direction} of ${start}: ${answer.nodes.length} nodes, ${answer.edges.length} edges${v.all ? ` (${pages} pages)` : ''}`,
  ];
  if (answer.nodes.length) lines.push(treeText(answer));
  lines.push(completenessLine(answer));
  if (answer.next !== undefined) lines.push(`next page: --cursor ${answer.next} (or --all)`);
  lines.push(check.line, '');
  io.out(lines.join('\n'));
  return EXIT.OK;
}

async function runFootprint(v: Values, io: Io, api: Http): Promise<number> {
  if (v.source === undefined) throw new CliError('USAGE', '--source: required');
  const p = new URLSearchParams({ source: v.source });
  if (v.depth !== undefined) p.set('depth', String(v.depth));
  if (v['as-of'] !== undefined) p.set('asOf', String(v['as-of']));
  const { text } = await api.get('footprint', p);
  const a = parseAnswer(footprintAnswer, text, 'footprint');
  if (v.json) {
    io.out(`${JSON.stringify(a)}\n`);
    return EXIT.OK;
  }
  const counts = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || '-';
  const lines = [
    `footprint of source ${a.source}: ${a.collects} collects, ${a.events} events, depth ${a.depth}`,
    `  types: ${counts(a.types)}`,
    '',
    'datasets:',
    table([
      ['dataset', 'versions', 'events'],
      ...a.datasets.map((d) => [d.id, String(d.versions), String(d.events)]),
    ]),
    '',
    'organizations:',
    table([
      ['organization', 'received', 'for purposes', 'handled', 'types'],
      ...a.organizations.map((o) => [
        o.org,
        String(o.received.transfers),
        o.received.purposes.join(', ') || '-',
        String(o.handled.events),
        counts(o.handled.types),
      ]),
    ]),
    '',
    completenessLine(a),
    '',
  ];
  io.out(lines.join('\n'));
  return EXIT.OK;
}

async function runFlows(v: Values, io: Io, api: Http): Promise<number> {
  if (v.from === undefined || v.until === undefined)
    throw new CliError('USAGE', `${v.from === undefined ? '--from' : '--until'}: required`);
  const p = new URLSearchParams({ from: v.from, until: v.until });
  if (v['as-of'] !== undefined) p.set('asOf', String(v['as-of']));
  const a = parseAnswer(flowsAnswer, (await api.get('flows', p)).text, 'flows');
  if (v.json) {
    io.out(`${JSON.stringify(a)}\n`);
    return EXIT.OK;
  }
  const counted = (xs: { name: string; n: number }[]) =>
    xs.map((x) => `${x.name} (${x.n})`).join(', ') || '-';
  const lines = [
    `flows from ${a.from} until ${a.until}: ${a.flows.length} sender -> recipient pairs`,
    table([
      ['sender -> recipient', 'transfers', 'purposes', 'categories'],
      ...a.flows.map((f) => [
        `${f.from} -> ${f.to}`,
        String(f.transfers),
        counted(f.purposes.map((x) => ({ name: x.purpose, n: x.transfers }))),
        counted(f.categories.map((x) => ({ name: x.category, n: x.transfers }))),
      ]),
    ]),
    completenessLine(a),
    '',
  ];
  io.out(lines.join('\n'));
  return EXIT.OK;
}

async function runExportDoc(v: Values, io: Io, api: Http): Promise<number> {
  if (v.format === undefined) throw new CliError('USAGE', '--format: required (prov or openlineage)');
  if (v.out === undefined) throw new CliError('USAGE', '--out: required (the file to write)');
  const file = resolve(io.cwd, v.out);
  const p = selectionParams(v, v.direction ?? 'upstream');
  p.set('format', v.format);
  const { text, headers } = await api.get('export', p);
  try {
    JSON.parse(text);
  } catch {
    throw new CliError('SERVER_ERROR', 'the export answer is not JSON');
  }
  const asOf = Number(headers.get('civic-ledger-as-of'));
  const complete = headers.get('civic-ledger-complete') === 'true';
  const next = headers.get('civic-ledger-next') ?? undefined;
  try {
    writeFileSync(file, text, { flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliError('USAGE', `--out: ${file} exists`);
    throw new CliError('IO_ERROR', `--out: cannot write ${file}: ${describe(e)}`, { cause: e });
  }
  // The export names no reasons (PROV-JSON allows no extra members): point to the trace.
  const line = complete
    ? `COMPLETE as of tree size ${asOf}`
    : `INCOMPLETE as of tree size ${asOf}: ${next === undefined ? '' : 'page (more nodes: --cursor); '}run 'civic-ledger lineage ${v.direction ?? 'upstream'}' with the same selection for the reasons`;
  if (v.json) {
    io.out(
      `${JSON.stringify({ ok: true, format: v.format, file, bytes: Buffer.byteLength(text), asOf, complete, ...(next === undefined ? {} : { next }) })}\n`,
    );
  } else {
    io.out(`wrote the ${v.format} document to ${file}\n${line}\n`);
    if (next !== undefined) io.out(`next page: --cursor ${next}\n`);
  }
  return EXIT.OK;
}

/** The bundle files a bundle API answer may name (never a path). */
const BUNDLE_FILE = /^[a-z][a-z0-9-]*\.jsonl$/;

async function runBundle(v: Values, io: Io, api: Http, pinned: PinnedKeys, origin: string): Promise<number> {
  if (v.out === undefined) throw new CliError('USAGE', '--out: required (the bundle directory)');
  const dir = resolve(io.cwd, v.out);
  const p = selectionParams(v, v.direction ?? 'upstream');
  let existing: string[] = [];
  try {
    existing = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CliError('IO_ERROR', `--out: cannot read ${dir}: ${describe(e)}`, { cause: e });
  }
  if (existing.length) throw new CliError('USAGE', `--out: ${dir} is not empty`);
  const a = parseAnswer(bundleAnswer, (await api.get('bundle', p)).text, 'bundle');
  for (const name of Object.keys(a.files)) {
    if (!BUNDLE_FILE.test(name))
      throw new CliError('SERVER_ERROR', `the bundle names a bad file ${JSON.stringify(name)}`);
  }
  try {
    mkdirSync(dir, { recursive: true });
    // Byte for byte: the manifest pins each file's SHA-256.
    for (const [name, content] of Object.entries(a.files)) writeFileSync(resolve(dir, name), content, 'utf8');
    writeFileSync(resolve(dir, 'bundle.json'), `${JSON.stringify(a.manifest, null, 2)}\n`);
  } catch (e) {
    throw new CliError('IO_ERROR', `--out: cannot write ${dir}: ${describe(e)}`, { cause: e });
  }
  const report = await verifyBundleReport(io, dir, {
    logKey: pinned.logKey,
    logKeys: pinned.logKeys,
    origin,
    checkSignatures: true,
    threads: 0,
  });
  const summary = {
    ok: report.ok,
    dir,
    entries: report.size,
    chosen: report.chosen?.length ?? null,
    treeSize: report.treeSize,
    verified: report.ok,
    complete: a.complete,
    incomplete: a.incomplete,
    asOf: a.asOf,
    ...(a.next === undefined ? {} : { next: a.next }),
  };
  const failure = report.ok ? '' : `${report.check ?? ''} — ${report.message ?? ''}`;
  if (v.json) {
    io.out(`${JSON.stringify(report.ok ? summary : { ...summary, failure })}\n`);
  } else {
    io.out(`wrote a partial bundle to ${dir}: ${report.size} entries\n${completenessLine(a)}\n`);
    if (a.next !== undefined) io.out(`next page: --cursor ${a.next}\n`);
    io.out(
      report.ok
        ? `verified offline with the pinned log key: ${report.chosen?.length ?? 0} events proven in the checkpoint of tree size ${report.treeSize}\n`
        : `FAILED: the bundle does not verify: ${failure}\n`,
    );
  }
  return report.ok ? EXIT.OK : EXIT.VERIFICATION_FAILED;
}

async function runLineage(v: Values, io: Io): Promise<number> {
  const trace = ['upstream', 'downstream', 'export', 'bundle'];
  onlyFor(v, ['event', 'dataset', 'version', 'purpose', 'organization', 'type', 'limit', 'cursor'], trace);
  onlyFor(v, ['direction'], ['export', 'bundle']);
  onlyFor(v, ['all'], ['upstream', 'downstream']);
  onlyFor(v, ['format'], ['export']);
  onlyFor(v, ['out'], ['export', 'bundle']);
  onlyFor(v, ['source', 'depth'], [...trace, 'footprint']);
  onlyFor(v, ['from', 'until'], [...trace, 'flows']);
  if (v.all && v.cursor !== undefined) throw new CliError('USAGE', '--all and --cursor: give one');

  const { config } = loadConfigFile(io, v.config);
  const url = requireUrl(v.url, config, 'lineage');
  const api = http(url, authHeaders(io, v));
  switch (v.query) {
    case 'upstream':
    case 'downstream': {
      const pinned = await optionalPinnedKeys(io, v, config);
      const origin = pinned === undefined ? undefined : resolveOrigin(v.origin, config, pinned.logKey);
      return runTrace(v, io, api, { pinned, origin });
    }
    case 'footprint':
      return runFootprint(v, io, api);
    case 'flows':
      return runFlows(v, io, api);
    case 'export':
      return runExportDoc(v, io, api);
    case 'bundle': {
      const pinned = await pinnedKeys(io, v, config);
      return runBundle(v, io, api, pinned, resolveOrigin(v.origin, config, pinned.logKey));
    }
  }
}

export const command = defineCommand({
  spec: {
    name: 'lineage',
    summary: 'ask where data came from and where it went (trace, footprint, flows, export, bundle)',
    help: HELP,
    options: {
      ...LOG_OPTIONS,
      ...LOG_KEYS_OPTIONS,
      event: { type: 'string' },
      dataset: { type: 'string' },
      version: { type: 'string' },
      source: { type: 'string' },
      direction: { type: 'string' },
      depth: { type: 'string' },
      purpose: { type: 'string', multiple: true },
      organization: { type: 'string', multiple: true },
      type: { type: 'string', multiple: true },
      from: { type: 'string' },
      until: { type: 'string' },
      'as-of': { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      all: { type: 'boolean' },
      format: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    },
    schema,
    positional: 'query',
  },
  run: runLineage,
});
