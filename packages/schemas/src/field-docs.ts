// Generates the field reference (FIELDS.md) from the zod schemas themselves, so the
// documentation cannot drift from what the ledger accepts (a test compares the file).
import { z } from 'zod';
import { EVENT_TYPES, event } from './events.ts';
import { DIGEST, EVENT_HASH, KEY_NAME, ORG_ID, RESOURCE_ID, STREAM_ID, TERM_ID, TRACE_ID } from './ids.ts';
import { ISO_DURATION, LIMITS } from './primitives.ts';

type JsonSchema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
};

const NAMED_PATTERNS = new Map<string, string>([
  [ORG_ID.source, 'organization id'],
  [STREAM_ID.source, 'stream id'],
  [KEY_NAME.source, 'key name'],
  [RESOURCE_ID.source, 'source/dataset id'],
  [DIGEST.source, 'digest'],
  [EVENT_HASH.source, 'event hash'],
  [TERM_ID.source, 'term (CURIE)'],
  [TRACE_ID.source, 'trace id'],
  [ISO_DURATION.source, 'ISO 8601 duration'],
]);

function describeType(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(describeType).join(' or ');
  if (s.type === 'array' && s.items) {
    const bounds = [s.minItems ? `>= ${s.minItems}` : '', s.maxItems !== undefined ? `<= ${s.maxItems}` : '']
      .filter(Boolean)
      .join(', ');
    return `list of ${describeType(s.items)}${bounds ? ` (${bounds})` : ''}`;
  }
  if (s.type === 'string') {
    if (s.pattern !== undefined) return NAMED_PATTERNS.get(s.pattern) ?? `string matching \`${s.pattern}\``;
    if (s.maxLength === 40) return 'RFC 3339 UTC time';
    return s.maxLength !== undefined ? `text (<= ${s.maxLength} chars)` : 'string';
  }
  if (s.type === 'integer') return s.minimum !== undefined ? `integer >= ${s.minimum}` : 'integer';
  if (s.type === 'number') {
    const r = [
      s.minimum !== undefined ? `>= ${s.minimum}` : '',
      s.maximum !== undefined ? `<= ${s.maximum}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return r ? `number (${r})` : 'number';
  }
  if (s.type === 'object') return s.properties ? 'object (below)' : 'map of prefix:name to scalar';
  return String(s.type ?? 'value');
}

function rows(s: JsonSchema, prefix: string, out: string[]): void {
  const required = new Set(s.required ?? []);
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    const path = `${prefix}${name}`;
    out.push(`| \`${path}\` | ${required.has(name) ? 'yes' : ''} | ${describeType(p)} |`);
    const nested = p.type === 'array' ? p.items : p;
    if (nested?.properties) rows(nested, `${path}${p.type === 'array' ? '[]' : ''}.`, out);
    for (const alt of nested?.anyOf ?? nested?.oneOf ?? []) if (alt.properties) rows(alt, `${path}.`, out);
  }
}

/** The Markdown field reference of every event type. */
export function fieldReference(): string {
  const out = [
    '# Event fields (v1)',
    '',
    'Generated from the zod schemas by `pnpm --filter @civic-ledger/schemas run docs`; a test fails when it is out of date.',
    `Every object is strict (unknown fields are refused), except \`ext\`. Limits: canonical event <= ${LIMITS.maxEventBytes} bytes,`,
    `\`ext\` <= ${LIMITS.maxExtBytes} bytes, claimed time at most ${LIMITS.maxFutureSkewMs / 1000} s ahead of the ledger clock.`,
    '',
  ];
  const options = event.options;
  for (const type of EVENT_TYPES) {
    const schema = options.find((o) => o.shape.type.value === type)!;
    const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    out.push(`## \`${type}\``, '', '| field | required | rule |', '|---|---|---|');
    rows(js, '', out);
    out.push('');
  }
  return out.join('\n');
}
