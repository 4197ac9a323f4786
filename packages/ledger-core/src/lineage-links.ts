// The derived lineage rows of one admitted event: each distinct input of a movement, so the
// store can answer "which entries name this hash as input" (downstream lineage).
import { isMovement, type Event } from '@civic-ledger/schemas';
import type { LineageLink } from '@civic-ledger/storage';

export function lineageLinks(event: Event, index: number): LineageLink[] {
  if (!isMovement(event)) return [];
  return [...new Set(event.inputs)].map((input) => ({ index, input }));
}
