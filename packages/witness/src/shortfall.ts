// Which parts of a policy's quorum fail for a set of cosigners, and that in one sentence: what
// the ledger's status endpoint, its checks and the SDK's refusals all report.
import { evaluateQuorum, QUORUM_NONE, type Policy } from './policy.ts';

/** A group (or a quorum naming a witness) that does not hold. */
export interface QuorumShortfall {
  name: string;
  /** How many members must hold (1 for a witness). */
  threshold: number;
  /** Its members (for a witness: itself). */
  members: string[];
  /** The members that hold. */
  holding: string[];
}

/** The groups of the policy's quorum that do not hold, the quorum first, then its failing subgroups. */
export function quorumShortfall(policy: Policy, signed: Iterable<string>): QuorumShortfall[] {
  const quorum = policy.quorum;
  if (quorum === undefined || quorum === QUORUM_NONE) return [];
  const have = new Set(signed);
  const groups = new Map(policy.groups.map((g) => [g.name, g]));
  const holds = (name: string): boolean => {
    const g = groups.get(name);
    return g === undefined ? have.has(name) : evaluateQuorum({ ...policy, quorum: name }, have);
  };
  const out: QuorumShortfall[] = [];
  const visit = (name: string): void => {
    if (holds(name)) return;
    const g = groups.get(name);
    if (g === undefined) {
      out.push({ name, threshold: 1, members: [name], holding: [] });
      return;
    }
    out.push({
      name,
      threshold: g.threshold,
      members: [...g.members],
      holding: g.members.filter(holds),
    });
    for (const m of g.members) if (groups.has(m)) visit(m);
  };
  visit(quorum);
  return out;
}

/** `group "q" needs 2 of w1, w2, w3, has 1 (w1)`; several failing groups joined by "; ". */
export function describeShortfall(shortfall: readonly QuorumShortfall[]): string {
  return shortfall
    .map((s) =>
      s.members.length === 1 && s.members[0] === s.name
        ? `witness "${s.name}" has not cosigned`
        : `group "${s.name}" needs ${s.threshold} of ${s.members.join(', ')}, has ${s.holding.length}${s.holding.length === 0 ? '' : ` (${s.holding.join(', ')})`}`,
    )
    .join('; ');
}
