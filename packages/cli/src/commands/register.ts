// register: identities on the ledger — an organization (by the operator), a source or a
// dataset (by its organization), a key added or revoked — as `register` and `key` events
// signed with --key and submitted through the SDK.
import { z } from 'zod';
import { nonEmpty } from '../args.ts';
import { defineCommand } from '../command.ts';
import { CliError } from '../errors.ts';
import type { Io } from '../io.ts';
import {
  SUBMIT_HELP,
  SUBMIT_OPTIONS,
  bodyFromJson,
  defined,
  readJsonArg,
  submitBody,
  submitContext,
  submitSchema,
} from './submit.ts';
import type { EventBody } from '@civic-ledger/client';

const WHAT = ['organization', 'source', 'dataset', 'key-add', 'key-revoke'] as const;

const HELP = `Usage: civic-ledger register <what> --url <url> (--log-key <key> | --log-keys <file>) --key <file> [flags]
       civic-ledger register --json <file|-> --url <url> (--log-key <key> | --log-keys <file>) --key <file>

Registers an identity on the ledger: builds the 'register' or 'key' event, signs it with
--key (emitter = the key's organization), submits it through the SDK and prints the
receipt, checked against the pinned log key. Default stream: registry.

<what>:
  organization   (operator only) --id <org> --name <text> --role <role> --jurisdiction <CC>
                 [--contact <https url>]; role: agency|vendor|oversight|operator|compliance|gateway
  source         --id <org>/<name> --name <text> --technology <term> (--lat <deg> --lon <deg> |
                 --area <text>) --category <term>... --personal-data <level>
                 [--notice <https url>] [--operator <org>]
  dataset        --id <org>/<name> --name <text> --category <term>... --personal-data <level>
                 [--source <id>...]
  key-add        --public-key <verifier key text> [--subject-key <org>/<label>] [--org <org>]
                 (an organization adds its own keys; the operator adds anyone's)
  key-revoke     --subject-key <org>/<label> [--org <org>] [--compromised-since <rfc3339>]
                 [--reason <text>]
  personal data level: identified|pseudonymised|contextually-anonymised|anonymised|none

  --json <file|->         instead of <what> and its flags: a register or key event body
                          (without emitter/seq/prev/key)

Flags:
${SUBMIT_HELP}

Exit codes: 0 registered (or already: the original receipt), 1 the receipt does not verify
with the pinned log key, 2 usage (a flag breaking its rule, no key), 3 not accepted (the
ledger refused it, or could not be reached).
`;

const schema = z.object({
  ...submitSchema,
  what: z.enum(WHAT).optional(),
  id: nonEmpty.optional(),
  name: nonEmpty.optional(),
  role: nonEmpty.optional(),
  jurisdiction: nonEmpty.optional(),
  contact: nonEmpty.optional(),
  technology: nonEmpty.optional(),
  lat: z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'a decimal number of degrees')
    .transform(Number)
    .optional(),
  lon: z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'a decimal number of degrees')
    .transform(Number)
    .optional(),
  area: nonEmpty.optional(),
  category: z.array(nonEmpty).optional(),
  'personal-data': nonEmpty.optional(),
  notice: nonEmpty.optional(),
  operator: nonEmpty.optional(),
  source: z.array(nonEmpty).optional(),
  'public-key': nonEmpty.optional(),
  'subject-key': nonEmpty.optional(),
  org: nonEmpty.optional(),
  'compromised-since': nonEmpty.optional(),
  reason: nonEmpty.optional(),
});
type Values = z.output<typeof schema>;

const FLAGS_OF: Record<(typeof WHAT)[number], readonly string[]> = {
  organization: ['id', 'name', 'role', 'jurisdiction', 'contact'],
  source: [
    'id',
    'name',
    'technology',
    'lat',
    'lon',
    'area',
    'category',
    'personal-data',
    'notice',
    'operator',
  ],
  dataset: ['id', 'name', 'category', 'personal-data', 'source'],
  'key-add': ['public-key', 'subject-key', 'org'],
  'key-revoke': ['subject-key', 'org', 'compromised-since', 'reason'],
};
const ALL_FLAGS = [...new Set(Object.values(FLAGS_OF).flat())];

const FLAG_OF_FIELD: Record<string, string> = {
  'subject/id': '--id',
  'subject/name': '--name',
  'subject/role': '--role',
  'subject/jurisdiction': '--jurisdiction',
  'subject/contact': '--contact',
  'subject/technology': '--technology',
  'subject/location': '--lat/--lon or --area',
  'subject/location/lat': '--lat',
  'subject/location/lon': '--lon',
  'subject/location/area': '--area',
  'subject/categories': '--category',
  'subject/personalData': '--personal-data',
  'subject/notice': '--notice',
  'subject/operator': '--operator',
  'subject/sources': '--source',
  publicKey: '--public-key',
  subjectKey: '--subject-key',
  subjectOrg: '--org',
  compromisedSince: '--compromised-since',
  reason: '--reason',
  stream: '--stream',
  time: '--time',
  traceId: '--trace-id',
};

function flagOfField(pointer: string): string {
  const path = pointer.replace(/^\//, '');
  const exact = FLAG_OF_FIELD[path] ?? FLAG_OF_FIELD[path.replace(/\/\d+$/, '')];
  return exact ? `${exact} (${pointer})` : pointer;
}

function keyNameOf(text: string): string {
  const plus = text.indexOf('+');
  return plus > 0 ? text.slice(0, plus) : text;
}

function bodyFromFlags(v: Values, org: string): EventBody {
  const what = v.what;
  if (what === undefined) {
    throw new CliError('USAGE', `<what>: required: one of ${WHAT.join(', ')} (or --json <file>)`);
  }
  const allowed = new Set(FLAGS_OF[what]);
  const stray = ALL_FLAGS.find((f) => !allowed.has(f) && v[f as keyof Values] !== undefined);
  if (stray !== undefined) throw new CliError('USAGE', `--${stray}: not a flag of register ${what}`);
  switch (what) {
    case 'organization':
      return {
        type: 'register',
        subject: defined({
          kind: 'organization',
          id: v.id,
          name: v.name,
          role: v.role,
          jurisdiction: v.jurisdiction,
          contact: v.contact,
        }),
      } as unknown as EventBody;
    case 'source': {
      if ((v.lat !== undefined || v.lon !== undefined) && v.area !== undefined) {
        throw new CliError('USAGE', '--area: not with --lat/--lon (a source has coordinates or an area)');
      }
      const location =
        v.area !== undefined
          ? { area: v.area }
          : v.lat !== undefined || v.lon !== undefined
            ? defined({ lat: v.lat, lon: v.lon })
            : undefined;
      return {
        type: 'register',
        subject: defined({
          kind: 'source',
          id: v.id,
          name: v.name,
          technology: v.technology,
          location,
          categories: v.category,
          personalData: v['personal-data'],
          notice: v.notice,
          operator: v.operator,
        }),
      } as unknown as EventBody;
    }
    case 'dataset':
      return {
        type: 'register',
        subject: defined({
          kind: 'dataset',
          id: v.id,
          name: v.name,
          categories: v.category,
          personalData: v['personal-data'],
          sources: v.source,
        }),
      } as unknown as EventBody;
    case 'key-add': {
      if (v['public-key'] === undefined)
        throw new CliError('USAGE', '--public-key: required (the verifier key text to add)');
      const subjectKey = v['subject-key'] ?? keyNameOf(v['public-key']);
      return {
        type: 'key',
        action: 'add',
        subjectOrg: v.org ?? keyNameOf(subjectKey).split('/')[0] ?? org,
        subjectKey,
        publicKey: v['public-key'],
      } as unknown as EventBody;
    }
    case 'key-revoke': {
      if (v['subject-key'] === undefined)
        throw new CliError('USAGE', '--subject-key: required (the key to revoke)');
      return {
        type: 'key',
        action: 'revoke',
        subjectOrg: v.org ?? v['subject-key'].split('/')[0] ?? org,
        subjectKey: v['subject-key'],
        ...defined({ compromisedSince: v['compromised-since'], reason: v.reason }),
      } as unknown as EventBody;
    }
  }
}

async function runRegister(v: Values, io: Io): Promise<number> {
  const opts = { ...v, stream: v.stream ?? 'registry' };
  let body: EventBody;
  let fieldName: (pointer: string) => string;
  const ctx = await submitContext(io, opts, 'register');
  const org = ctx.key.name.split('/')[0]!;
  if (v.json !== undefined) {
    if (v.what !== undefined)
      throw new CliError('USAGE', `<what>: not with --json (the event comes from the file)`);
    const given = ALL_FLAGS.find((f) => v[f as keyof Values] !== undefined);
    if (given !== undefined)
      throw new CliError('USAGE', `--${given}: not with --json (the event comes from the file)`);
    body = bodyFromJson(readJsonArg(io, v.json, '--json'), '--json');
    const type = (body as { type?: unknown }).type;
    if (type !== 'register' && type !== 'key') {
      throw new CliError(
        'USAGE',
        `--json: "type" must be "register" or "key" here (use civic-ledger emit for ${JSON.stringify(type)})`,
      );
    }
    fieldName = (p) => `${v.json}: ${p}`;
  } else {
    body = bodyFromFlags(v, org);
    fieldName = flagOfField;
  }
  return submitBody(io, opts, ctx, body, fieldName);
}

export const command = defineCommand({
  spec: {
    name: 'register',
    summary: 'register an identity',
    help: HELP,
    positional: 'what',
    options: {
      ...SUBMIT_OPTIONS,
      id: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      jurisdiction: { type: 'string' },
      contact: { type: 'string' },
      technology: { type: 'string' },
      lat: { type: 'string' },
      lon: { type: 'string' },
      area: { type: 'string' },
      category: { type: 'string', multiple: true },
      'personal-data': { type: 'string' },
      notice: { type: 'string' },
      operator: { type: 'string' },
      source: { type: 'string', multiple: true },
      'public-key': { type: 'string' },
      'subject-key': { type: 'string' },
      org: { type: 'string' },
      'compromised-since': { type: 'string' },
      reason: { type: 'string' },
    },
    schema,
  },
  run: runRegister,
});
