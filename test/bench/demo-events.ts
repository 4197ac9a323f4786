// Demo-sized events (about 500 bytes canonical) for benchmarks: a mix of movements as a
// city's systems emit them, each distinct (seq, hashes, counts).
import { createHash } from 'node:crypto';
import { EXAMPLE_EVENTS, type EventInput } from '@civic-ledger/schemas';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

export function demoEvents(n: number): EventInput[] {
  const kinds = ['transfer', 'use', 'collect', 'derive'] as const;
  const out: EventInput[] = [];
  for (let i = 0; i < n; i++) {
    const base = structuredClone(EXAMPLE_EVENTS[kinds[i % kinds.length]!]) as Record<string, unknown>;
    base['seq'] = i + 2;
    base['prev'] = hex(`prev${i}`);
    base['declaration'] = hex(`decl${i % 17}`);
    base['dataset'] = { id: 'transport-agency/traffic-counts', version: `sha256:${hex(`v${i}`)}` };
    if (Array.isArray(base['inputs']) && base['inputs'].length > 0) base['inputs'] = [hex(`in${i}`)];
    base['records'] = 1000 + (i % 977);
    delete base['columns'];
    delete base['anonymisation'];
    if (base['type'] === 'derive') base['processing'] = ['aggregate'];
    out.push(base as EventInput);
  }
  return out;
}
