// Test helpers: offline expansion with the shipped contexts, and readers of the expanded
// graph (full IRIs only, as a JSON-LD processor sees the policy).
import jsonld from 'jsonld';
import { generateDemoCity, type DemoSubmission } from '@civic-ledger/demo-city';
import { declareEvent, type DeclareEvent } from '@civic-ledger/schemas';
import { localDocumentLoader } from './contexts.ts';

export type ExpandedNode = Record<string, unknown>;

export const ODRL = (local: string): string => `http://www.w3.org/ns/odrl/2/${local}`;
export const DPV = (local: string): string => `https://w3id.org/dpv#${local}`;
export const CL = (local: string): string => `https://civic-ledger.example/odrl#${local}`;
export const CITY = (local: string): string => `https://civic-ledger.example/terms/city#${local}`;

/**
 * Expands a document with the local loader only, in jsonld.js's safe mode: a property that
 * does not expand to an absolute IRI fails the expansion instead of being dropped.
 */
export async function expandOffline(doc: unknown): Promise<ExpandedNode[]> {
  const options = { documentLoader: localDocumentLoader, safe: true };
  return (await jsonld.expand(doc as never, options as never)) as unknown as ExpandedNode[];
}

/** The values of a property (always an array in expanded form). */
export function values(node: ExpandedNode, property: string): ExpandedNode[] {
  const v = node[property];
  return Array.isArray(v) ? (v as ExpandedNode[]) : [];
}

/** The node IRIs a property points to. */
export function ids(node: ExpandedNode, property: string): string[] {
  return values(node, property).map((v) => v['@id'] as string);
}

/** The one IRI a property points to (fails the test when there is not exactly one). */
export function id(node: ExpandedNode, property: string): string {
  const all = ids(node, property);
  if (all.length !== 1) throw new Error(`${property}: expected one IRI, got ${JSON.stringify(all)}`);
  return all[0]!;
}

/** `{ leftOperand, operator, rightOperand }` of each constraint of a rule, as full IRIs and values. */
export function constraints(rule: ExpandedNode): { left: string; op: string; right: unknown[] }[] {
  return values(rule, ODRL('constraint')).map((c) => ({
    left: id(c, ODRL('leftOperand')),
    op: id(c, ODRL('operator')),
    right: values(c, ODRL('rightOperand')).map((r) => r['@id'] ?? r['@value']),
  }));
}

/**
 * Property values in a compact document (keys other than `@context`, keywords and the
 * ODRL context's keyword aliases `uid`/`type`), counting each array item: the number an
 * expansion must keep for nothing to have been dropped.
 */
export function countCompactValues(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countCompactValues(x), 0);
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('@') || k === 'uid' || k === 'type') continue;
    n += (Array.isArray(x) ? x.length : 1) + countCompactValues(x);
  }
  return n;
}

/** The same count in an expanded document. */
export function countExpandedValues(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countExpandedValues(x), 0);
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('@')) continue;
    n += (x as unknown[]).length + countExpandedValues(x);
  }
  return n;
}

/** Every property, `@id` and `@type` of an expanded document that is not an absolute IRI. */
export function relativeIris(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) {
    for (const x of v) relativeIris(x, out);
    return out;
  }
  if (typeof v !== 'object' || v === null) return out;
  const absolute = (s: unknown) => typeof s === 'string' && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(s);
  for (const [k, x] of Object.entries(v)) {
    if (!k.startsWith('@') && !absolute(k)) out.push(k);
    if (k === '@id' && !absolute(x)) out.push(String(x));
    // A value object's @type is a datatype IRI; a node's @type a list of class IRIs.
    if (k === '@type') for (const t of [x].flat()) if (!absolute(t)) out.push(String(t));
    if (!k.startsWith('@')) relativeIris(x, out);
  }
  return out;
}

/** The demo city's declare events (the preamble of a small unsigned city), with their hashes. */
export function demoCityDeclarations(): { event: DeclareEvent; hash: string }[] {
  const city = generateDemoCity({ seed: 'odrl', size: 100, sign: false });
  const out: { event: DeclareEvent; hash: string }[] = [];
  for (const batch of city.batchesSync()) {
    for (const s of batch as DemoSubmission[]) {
      if (s.event['type'] === 'declare') out.push({ event: declareEvent.parse(s.event), hash: s.hash });
    }
  }
  return out;
}
