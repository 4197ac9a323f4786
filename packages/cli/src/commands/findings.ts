// findings: the compliance findings recorded in the log (GET /v1/findings of the compliance
// API, @civic-ledger/compliance-runner), newest first, filtered by organization, dataset,
// check, outcome and admission time. Each finding is an event of the log, signed by the
// compliance service: `civic-ledger proof --index <index>` proves any of them is in it.
import { z } from 'zod';
import { HEX_HASH, intFlag, nonEmpty, urlFlag } from '../args.ts';
import { defineCommand } from '../command.ts';
import { loadConfigFile, requireUrl } from '../config.ts';
import { CliError, EXIT, describe } from '../errors.ts';
import type { Io } from '../io.ts';
import { authHeaders, parseAnswer } from './common.ts';

const HELP = `Usage: civic-ledger findings --url <url> [filters] [--json]

Lists the compliance findings recorded in the log, newest first: each is a 'finding' event
the compliance service signed about an event that breaks (violation), cannot be judged
against (undetermined) or kept data past (overdue) the purposes declared for its data.

Filters (all must hold):
  --org <org>             findings involving this organization: the emitter or recipient of
                          the evaluated event, or of an event on its lineage path
  --dataset <id>          the evaluated event's dataset (<org>/<name>)
  --check <id>            one check: purpose-declared, recipient-allowed, retention, ...
  --outcome <o>           violation, undetermined or overdue
  --about <hash>          findings about this event
  --from <time>           admitted to the ledger at or after this time (RFC 3339)
  --until <time>          admitted before this time (RFC 3339)

Pages:
  --limit <n>             findings per page, 1..1000 (default 100)
  --cursor <c>            the page after an earlier answer's "next"
  --all                   follow the pages to the oldest finding (progress on stderr)

Flags:
  --url <url>             the ledger's (or the compliance service's) base URL; --ledger is
                          the same flag
  --config <file>         config file (default ./civic-ledger.json when present)
  --token <file>          a file holding a bearer token (scope auditor) when the ledger
                          controls read access; default: the token in $CIVIC_LEDGER_TOKEN
  --json                  print the API's answer as JSON

Exit codes: 0 answered (also when nothing matches), 2 usage (a bad flag, or the server
refused a parameter: the flag is named), 3 could not ask (server unreachable, no compliance
API there, or an HTTP error: its code and message are printed).
`;

const OUTCOMES = ['violation', 'undetermined', 'overdue'] as const;

const schema = z.object({
  config: nonEmpty.optional(),
  url: urlFlag.optional(),
  ledger: urlFlag.optional(),
  token: nonEmpty.optional(),
  org: nonEmpty.optional(),
  dataset: nonEmpty.optional(),
  check: nonEmpty.optional(),
  outcome: z.enum(OUTCOMES, { error: OUTCOMES.join(', ') }).optional(),
  about: z.string().regex(HEX_HASH, 'an event hash: 64 lower-case hex digits').optional(),
  from: nonEmpty.optional(),
  until: nonEmpty.optional(),
  limit: intFlag(1, 1000).optional(),
  cursor: nonEmpty.optional(),
  all: z.boolean().default(false),
  json: z.boolean().default(false),
});
type Values = z.output<typeof schema>;

/** The API's query parameters by the flags that stand for them. */
const FLAG_OF: Record<string, string> = { organization: '--org' };

const apiError = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** The ledger URL of a compliance command: --url (or its alias --ledger), else the config file. */
export function complianceUrl(
  io: Io,
  v: { config?: string | undefined; url?: string | undefined; ledger?: string | undefined },
  command: string,
): string {
  if (v.url !== undefined && v.ledger !== undefined && v.url !== v.ledger) {
    throw new CliError('USAGE', '--url, --ledger: the same flag, given twice with different URLs');
  }
  const { config } = loadConfigFile(io, v.config);
  return requireUrl(v.url ?? v.ledger, config, command);
}

/**
 * One request to the compliance API: the answer's text, or a CliError: a refused parameter or
 * field names its flag (exit 2); anything else is exit 3.
 */
export async function complianceRequest(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
  flagOf: (param: string) => string = (p) => FLAG_OF[p] ?? `--${p}`,
): Promise<string> {
  const { body } = options;
  const target = `${url}${path}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(target, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    text = await res.text();
  } catch (e) {
    throw new CliError('SERVER_ERROR', `could not reach ${url}: ${describe(e)}`, { cause: e });
  }
  if (res.ok) return text;
  let error: z.output<typeof apiError> | undefined;
  try {
    error = apiError.parse(JSON.parse(text));
  } catch {
    error = undefined;
  }
  if (error === undefined)
    throw new CliError('SERVER_ERROR', `HTTP ${res.status} from ${target}: ${text.slice(0, 200)}`);
  if (error.code === 'NOT_FOUND' && error.message.startsWith('no route')) {
    throw new CliError(
      'SERVER_ERROR',
      `${url} serves no compliance API (${method} ${path.split('?')[0]} not found)`,
    );
  }
  if (error.code === 'SCHEMA_INVALID') {
    const issues = z
      .array(z.object({ path: z.string(), rule: z.string() }))
      .catch([])
      .parse(error.details?.['issues']);
    const named = issues.map((i) => `${flagOf(i.path.replace(/^\//, '').split('/')[0]!)}: ${i.rule}`);
    throw new CliError('USAGE', named.length ? named.join('; ') : `${error.code}: ${error.message}`);
  }
  throw new CliError('SERVER_ERROR', `HTTP ${res.status} ${error.code}: ${error.message}`);
}

/** Columns padded to their widest cell (the last one is not padded). */
export function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

function params(v: Values): URLSearchParams {
  const p = new URLSearchParams();
  const set = (name: string, value: string | number | undefined) =>
    value !== undefined && p.set(name, String(value));
  set('organization', v.org);
  set('dataset', v.dataset);
  set('check', v.check);
  set('outcome', v.outcome);
  set('about', v.about);
  set('from', v.from);
  set('until', v.until);
  set('limit', v.limit);
  set('cursor', v.cursor);
  return p;
}

async function runFindings(v: Values, io: Io): Promise<number> {
  if (v.all && v.cursor !== undefined) throw new CliError('USAGE', '--all and --cursor: give one');
  const url = complianceUrl(io, v, 'findings');
  const headers = authHeaders(io, v);
  const { findingsPage } = await import('@civic-ledger/compliance-runner/schemas');
  const p = params(v);
  const get = async () =>
    parseAnswer(
      findingsPage,
      await complianceRequest(url, 'GET', `/v1/findings?${p.toString()}`, { headers }),
      'findings',
    );
  let answer = await get();
  const findings = [...answer.findings];
  let pages = 1;
  while (v.all && answer.next !== undefined) {
    io.err(`page ${pages}: ${findings.length} findings so far, fetching the next\n`);
    p.set('cursor', answer.next);
    answer = await get();
    findings.push(...answer.findings);
    pages++;
  }
  const { next, asOf } = answer;
  if (v.json) {
    io.out(`${JSON.stringify({ findings, ...(next === undefined ? {} : { next }), asOf })}\n`);
    return EXIT.OK;
  }
  const lines = [
    `${findings.length} finding${findings.length === 1 ? '' : 's'} (log read up to tree size ${asOf})`,
  ];
  if (findings.length > 0) {
    const rows = [['index', 'admitted', 'outcome', 'check', 'about', 'who', 'dataset']];
    for (const f of findings) {
      const e = f.evaluated;
      rows.push([
        `#${f.index}`,
        f.admitted.replace(/\.\d+Z$/, 'Z'),
        f.outcome,
        f.check,
        `${f.about.slice(0, 12)}${e === null ? ' (not in the log)' : ` #${e.index} ${e.type}`}`,
        e === null ? '-' : e.recipient === undefined ? e.emitter : `${e.emitter} -> ${e.recipient}`,
        e?.dataset ?? '-',
      ]);
    }
    lines.push(table(rows));
    lines.push('', 'explanations:');
    for (const f of findings) lines.push(`  #${f.index}  ${f.explanation}`);
  }
  if (next !== undefined) lines.push(`next page: --cursor ${next} (or --all)`);
  lines.push('');
  io.out(lines.join('\n'));
  return EXIT.OK;
}

export const command = defineCommand({
  spec: {
    name: 'findings',
    summary: 'list the compliance findings recorded in the log (violations, undetermined, overdue)',
    help: HELP,
    options: {
      config: { type: 'string' },
      url: { type: 'string' },
      ledger: { type: 'string' },
      token: { type: 'string' },
      org: { type: 'string' },
      dataset: { type: 'string' },
      check: { type: 'string' },
      outcome: { type: 'string' },
      about: { type: 'string' },
      from: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    schema,
  },
  // stdout drains before the process exits: main.ts waits for it, for every command.
  run: (v, io) => runFindings(v, io),
});
