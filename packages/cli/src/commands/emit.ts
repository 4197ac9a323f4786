// emit: one event, from a JSON body (`--json <file|->`) or from flags for the movement
// types; the SDK fills in emitter, seq, prev and key, signs, stores it in the outbox,
// sends it and checks the receipt against the pinned log key.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { EventBody } from '@civic-ledger/client';
import { z } from 'zod';
import { intFlag, nonEmpty } from '../args.ts';
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

const MOVEMENTS = ['collect', 'transfer', 'derive', 'use', 'publish', 'delete'] as const;

const HELP = `Usage: civic-ledger emit --url <url> (--log-key <key> | --log-keys <file>) --key <file> (--json <file|-> | --type <type> ...)

Signs an event with your key and submits it through the SDK: emitter, seq, prev and key
are filled in from the key and the stream's chain; the event is stored in the outbox before
it is sent (resent after a crash, never signed twice); the receipt is checked against the
pinned log key and printed.

The event:
  --json <file|->         an event body as JSON (any type; without emitter/seq/prev/key,
                          which are filled in; "stream", "time", "traceId" optional)
  or, for the movement types, flags:
  --type <type>           collect | transfer | derive | use | publish | delete
  --dataset <id>          dataset id <org>/<name>
  --dataset-version <d>   sha256:<64 hex> digest of the dataset's content
  --dataset-file <file>   ...or compute that digest from a file
  --input <hash>          an upstream event hash (repeat for several; none for collect)
  --purpose <term>        the purpose claimed, e.g. city:TrafficManagement
  --declaration <hash>    hash of the declare event the movement runs under
  --records <n>           number of records
  --note <text>           one short sentence
  collect:   --source <id> --category <term>... --personal-data <level>
  transfer:  --recipient <org> [--agreement <sha256:...>] [--next-policy <hash>]
  derive:    --processing <op>... --category <term>... --personal-data <level>
  use:       --action <term>
  publish:   --audience public|registered-users|partners [--publish-url <url>] [--licence <term>]
  delete:    --method erase|overwrite|crypto-shred|destroy-media
  (see packages/schemas/FIELDS.md for every field and rule)

Flags:
${SUBMIT_HELP}

Exit codes: 0 accepted (or already in the log: the original receipt), 1 the receipt or the
inclusion proof does not verify with the pinned log key, 2 usage (a flag or field breaking
its rule, no key), 3 not accepted (the ledger refused it, or could not be reached: the
event stays in the outbox and is resent by the next emit).
`;

const schema = z.object({
  ...submitSchema,
  type: z.enum(MOVEMENTS).optional(),
  dataset: nonEmpty.optional(),
  'dataset-version': nonEmpty.optional(),
  'dataset-file': nonEmpty.optional(),
  input: z.array(nonEmpty).optional(),
  purpose: nonEmpty.optional(),
  declaration: nonEmpty.optional(),
  records: intFlag(0).optional(),
  note: nonEmpty.optional(),
  source: nonEmpty.optional(),
  category: z.array(nonEmpty).optional(),
  'personal-data': nonEmpty.optional(),
  recipient: nonEmpty.optional(),
  agreement: nonEmpty.optional(),
  'next-policy': nonEmpty.optional(),
  processing: z.array(nonEmpty).optional(),
  action: nonEmpty.optional(),
  audience: nonEmpty.optional(),
  'publish-url': nonEmpty.optional(),
  licence: nonEmpty.optional(),
  method: nonEmpty.optional(),
});
type Values = z.output<typeof schema>;

const BODY_FLAGS = [
  'type',
  'dataset',
  'dataset-version',
  'dataset-file',
  'input',
  'purpose',
  'declaration',
  'records',
  'note',
  'source',
  'category',
  'personal-data',
  'recipient',
  'agreement',
  'next-policy',
  'processing',
  'action',
  'audience',
  'publish-url',
  'licence',
  'method',
] as const;

/** Event field (JSON Pointer below /event) → the flag that sets it. */
const FLAG_OF_FIELD: Record<string, string> = {
  type: '--type',
  dataset: '--dataset',
  'dataset/id': '--dataset',
  'dataset/version': '--dataset-version',
  inputs: '--input',
  purpose: '--purpose',
  declaration: '--declaration',
  records: '--records',
  note: '--note',
  source: '--source',
  categories: '--category',
  personalData: '--personal-data',
  recipient: '--recipient',
  agreement: '--agreement',
  nextPolicy: '--next-policy',
  processing: '--processing',
  action: '--action',
  audience: '--audience',
  url: '--publish-url',
  licence: '--licence',
  method: '--method',
  stream: '--stream',
  time: '--time',
  traceId: '--trace-id',
};

export function flagOfField(pointer: string): string {
  const path = pointer.replace(/^\//, '');
  const exact = FLAG_OF_FIELD[path];
  if (exact) return exact;
  // A list item (/inputs/0) is reported at its list's flag.
  const parent = FLAG_OF_FIELD[path.replace(/\/\d+$/, '')];
  return parent ? `${parent} (${pointer})` : pointer;
}

async function fileDigest(io: Io, file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(resolve(io.cwd, file)), hash);
  } catch (e) {
    throw new CliError('USAGE', `--dataset-file: cannot read ${file}: ${(e as Error).message}`);
  }
  return `sha256:${hash.digest('hex')}`;
}

async function bodyFromFlags(io: Io, v: Values): Promise<EventBody> {
  if (v.type === undefined) {
    throw new CliError(
      'USAGE',
      '--type: required (collect|transfer|derive|use|publish|delete), or give the event as --json <file>',
    );
  }
  if (v['dataset-version'] !== undefined && v['dataset-file'] !== undefined) {
    throw new CliError('USAGE', '--dataset-version and --dataset-file: give one');
  }
  const version =
    v['dataset-file'] === undefined ? v['dataset-version'] : await fileDigest(io, v['dataset-file']);
  const body = {
    type: v.type,
    ...(v.dataset === undefined && version === undefined
      ? {}
      : { dataset: defined({ id: v.dataset, version }) }),
    inputs: v.input ?? [],
    ...defined({
      purpose: v.purpose,
      declaration: v.declaration,
      records: v.records,
      note: v.note,
      source: v.source,
      categories: v.category,
      personalData: v['personal-data'],
      recipient: v.recipient,
      agreement: v.agreement,
      nextPolicy: v['next-policy'],
      processing: v.processing,
      action: v.action,
      audience: v.audience,
      url: v['publish-url'],
      licence: v.licence,
      method: v.method,
    }),
  };
  return body as unknown as EventBody;
}

export const command = defineCommand({
  spec: {
    name: 'emit',
    summary: 'sign and submit an event',
    help: HELP,
    options: {
      ...SUBMIT_OPTIONS,
      type: { type: 'string' },
      dataset: { type: 'string' },
      'dataset-version': { type: 'string' },
      'dataset-file': { type: 'string' },
      input: { type: 'string', multiple: true },
      purpose: { type: 'string' },
      declaration: { type: 'string' },
      records: { type: 'string' },
      note: { type: 'string' },
      source: { type: 'string' },
      category: { type: 'string', multiple: true },
      'personal-data': { type: 'string' },
      recipient: { type: 'string' },
      agreement: { type: 'string' },
      'next-policy': { type: 'string' },
      processing: { type: 'string', multiple: true },
      action: { type: 'string' },
      audience: { type: 'string' },
      'publish-url': { type: 'string' },
      licence: { type: 'string' },
      method: { type: 'string' },
    },
    schema,
  },
  async run(v, io) {
    let body: EventBody;
    let fieldName: (pointer: string) => string;
    if (v.json !== undefined) {
      const given = BODY_FLAGS.find((f) => v[f] !== undefined);
      if (given !== undefined)
        throw new CliError('USAGE', `--${given}: not with --json (the event comes from the file)`);
      body = bodyFromJson(readJsonArg(io, v.json, '--json'), '--json');
      fieldName = (p) => `${v.json}: ${p}`;
    } else {
      body = await bodyFromFlags(io, v);
      fieldName = flagOfField;
    }
    const ctx = await submitContext(io, v, 'emit');
    return submitBody(io, v, ctx, body, fieldName);
  },
});
