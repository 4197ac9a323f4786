// Immutable poly-hierarchies of vocabulary terms. Each term's set of itself and all its
// ancestors is computed once, when the taxonomy is built or extended, so `isWithin` is one
// Map lookup and one Set lookup: the compliance engine asks it for every clause of every
// movement.
import { label, list, shortText, termId } from '@civic-ledger/schemas';
import { z } from 'zod';
import {
  ACTIONS,
  CATEGORIES,
  defaultIri,
  LEGAL_BASES,
  PURPOSES,
  TECHNIQUES,
  type LegalBasisTerm,
  type PurposeTerm,
  type Term,
} from './data.ts';
import { PurposeError, type PurposeIssue } from './errors.ts';

type Closure = ReadonlyMap<string, ReadonlySet<string>>;

/** A term and its broader terms: a DAG, read-only. */
export class Taxonomy<T extends Term = Term> {
  /** What the terms are ("purpose", "legal basis", ...), for messages. */
  readonly kind: string;
  readonly #terms: ReadonlyMap<string, T>;
  /** Each term → itself and every ancestor. */
  readonly #up: Closure;

  protected constructor(kind: string, terms: ReadonlyMap<string, T>, up: Closure) {
    this.kind = kind;
    this.#terms = terms;
    this.#up = up;
  }

  /** Builds a taxonomy; throws PurposeError for a duplicate id, an unknown parent or a cycle. */
  static of<T extends Term>(kind: string, terms: readonly T[]): Taxonomy<T> {
    const grown = grow(new Map(), new Map(), terms);
    return new Taxonomy(kind, grown.terms, grown.up);
  }

  get size(): number {
    return this.#terms.size;
  }

  has(id: string): boolean {
    return this.#terms.has(id);
  }

  get(id: string): T | undefined {
    return this.#terms.get(id);
  }

  /** Every term, in the order they were added (parents before children). */
  terms(): T[] {
    return [...this.#terms.values()];
  }

  parents(id: string): readonly string[] {
    return this.#terms.get(id)?.parents ?? [];
  }

  /** Every broader term of `id` along any path (not `id` itself); empty when unknown. */
  ancestors(id: string): ReadonlySet<string> {
    const up = this.#up.get(id);
    if (up === undefined) return new Set();
    const out = new Set(up);
    out.delete(id);
    return out;
  }

  /** `id` and its ancestors: the precomputed set itself (do not modify). */
  selfAndAncestors(id: string): ReadonlySet<string> | undefined {
    return this.#up.get(id);
  }

  /** Every term that has `id` as an ancestor (not `id` itself). Linear: not for hot paths. */
  descendants(id: string): string[] {
    const out: string[] = [];
    for (const [t, up] of this.#up) if (t !== id && up.has(id)) out.push(t);
    return out;
  }

  /** True when `term` equals `broader` or is narrower along any parent path. Unknown terms: false. */
  isWithin(term: string, broader: string): boolean {
    const up = this.#up.get(term);
    return up !== undefined && up.has(broader);
  }

  /** True when `term` is within at least one of `broader`. */
  isWithinAny(term: string, broader: Iterable<string>): boolean {
    const up = this.#up.get(term);
    if (up === undefined) return false;
    for (const b of broader) if (up.has(b)) return true;
    return false;
  }

  protected grown(additions: readonly T[]): { terms: Map<string, T>; up: Map<string, ReadonlySet<string>> } {
    return grow(this.#terms, this.#up, additions);
  }
}

/** A custom purpose as a `declare` event carries it (`declaration.customPurposes[i]`). */
export const customPurpose = z.strictObject({
  id: termId,
  label,
  parents: list(termId, 8).min(1),
  description: shortText.optional(),
});
export type CustomPurpose = z.input<typeof customPurpose>;

/** The purpose vocabulary: DPV and city purposes, extended by organizations' custom purposes. */
export class PurposeVocabulary extends Taxonomy<PurposeTerm> {
  static #base: PurposeVocabulary | undefined;

  /** The shipped vocabulary (DPV purposes and city purposes). */
  static base(): PurposeVocabulary {
    if (PurposeVocabulary.#base === undefined) {
      const grown = grow(new Map(), new Map(), PURPOSES);
      PurposeVocabulary.#base = new PurposeVocabulary('purpose', grown.terms, grown.up);
    }
    return PurposeVocabulary.#base;
  }

  /**
   * A new vocabulary with `custom` added (this one is unchanged). Throws PurposeError:
   * PURPOSE_INVALID (schema, or an id outside `x-<declaredBy>:` when `declaredBy` is given),
   * DUPLICATE_PURPOSE, UNKNOWN_PARENT or PURPOSE_CYCLE, naming the purpose and the rule.
   */
  extend(custom: readonly CustomPurpose[], declaredBy?: string): PurposeVocabulary {
    if (custom.length === 0) return this;
    const issues: PurposeIssue[] = [];
    const terms: PurposeTerm[] = [];
    custom.forEach((raw, i) => {
      const parsed = customPurpose.safeParse(raw);
      const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : `#${i}`;
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          issues.push({ purpose: id, path: `/${issue.path.join('/')}`, rule: issue.message });
        }
        return;
      }
      const p = parsed.data;
      if (declaredBy !== undefined && !p.id.startsWith(`x-${declaredBy}:`)) {
        issues.push({
          purpose: p.id,
          path: '/id',
          rule: `custom purposes of ${declaredBy} use the prefix x-${declaredBy}:`,
        });
        return;
      }
      terms.push({
        id: p.id,
        iri: defaultIri(p.id),
        label: p.label,
        parents: p.parents,
        source: 'custom',
        ...(p.description === undefined ? {} : { description: p.description }),
        ...(declaredBy === undefined ? {} : { declaredBy }),
      });
    });
    if (issues.length > 0) throw new PurposeError('PURPOSE_INVALID', issues);
    const grown = this.grown(terms);
    return new PurposeVocabulary(this.kind, grown.terms, grown.up);
  }
}

/**
 * Adds terms to (copies of) a term map and its closure: refuses a duplicate id, a parent
 * that is known neither before nor in the batch, and a cycle (which only the batch can
 * make: existing terms never gain parents). The batch may list children before parents.
 */
function grow<T extends Term>(
  existing: ReadonlyMap<string, T>,
  existingUp: Closure,
  additions: readonly T[],
): { terms: Map<string, T>; up: Map<string, ReadonlySet<string>> } {
  const batch = new Map<string, T>();
  const duplicates: PurposeIssue[] = [];
  for (const t of additions) {
    if (existing.has(t.id) || batch.has(t.id)) {
      duplicates.push({ purpose: t.id, path: '/id', rule: 'an id that is already in the vocabulary' });
    } else batch.set(t.id, t);
  }
  if (duplicates.length > 0) throw new PurposeError('DUPLICATE_PURPOSE', duplicates);
  const unknown: PurposeIssue[] = [];
  for (const t of batch.values()) {
    t.parents.forEach((p, i) => {
      if (!existing.has(p) && !batch.has(p)) {
        unknown.push({ purpose: t.id, path: `/parents/${i}`, rule: `parent ${p} is not in the vocabulary` });
      }
    });
  }
  if (unknown.length > 0) throw new PurposeError('UNKNOWN_PARENT', unknown);

  // Kahn's algorithm over the edges inside the batch.
  const waiting = new Map<string, number>();
  const children = new Map<string, string[]>();
  for (const t of batch.values()) {
    let n = 0;
    for (const p of t.parents) {
      if (!batch.has(p)) continue;
      n += 1;
      const c = children.get(p);
      if (c === undefined) children.set(p, [t.id]);
      else c.push(t.id);
    }
    waiting.set(t.id, n);
  }
  const ready = [...batch.keys()].filter((id) => waiting.get(id) === 0);
  const terms = new Map(existing);
  const up = new Map(existingUp);
  while (ready.length > 0) {
    const id = ready.pop()!;
    const t = batch.get(id)!;
    const set = new Set<string>([id]);
    for (const p of t.parents) for (const a of up.get(p)!) set.add(a);
    up.set(id, set);
    terms.set(id, t);
    for (const c of children.get(id) ?? []) {
      const n = waiting.get(c)! - 1;
      waiting.set(c, n);
      if (n === 0) ready.push(c);
    }
  }
  if (terms.size < existing.size + batch.size) {
    const cyclic = [...batch.keys()].filter((id) => !terms.has(id));
    throw new PurposeError(
      'PURPOSE_CYCLE',
      cyclic.map((id) => ({
        purpose: id,
        path: '/parents',
        rule: `its parents lead back to itself (cycle among ${cyclic.join(', ')})`,
      })),
    );
  }
  // Keep insertion order as given (parents may follow children in the batch): rebuild the term map.
  const ordered = new Map(existing);
  for (const t of batch.values()) ordered.set(t.id, t);
  return { terms: ordered, up };
}

/** Legal bases (DPV, GDPR art. 6(1), and the transfer bases of arts. 45-46). */
export const LEGAL_BASIS_TAXONOMY: Taxonomy<LegalBasisTerm> = Taxonomy.of('legal basis', LEGAL_BASES);
/** Data categories (DPV personal-data categories and the city's). */
export const CATEGORY_TAXONOMY: Taxonomy = Taxonomy.of('data category', CATEGORIES);
/** Actions of `use` events (DPV processing operations and the city's actions). */
export const ACTION_TAXONOMY: Taxonomy = Taxonomy.of('action', ACTIONS);
/** Anonymisation techniques. */
export const TECHNIQUE_TAXONOMY: Taxonomy = Taxonomy.of('anonymisation technique', TECHNIQUES);
