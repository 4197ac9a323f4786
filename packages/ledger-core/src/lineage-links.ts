// The derived lineage rows of one admitted event: each distinct input of a movement, so the
// store can answer "which entries name this hash as input" (downstream lineage).
import { isMovement, type Event } from '@civic-ledger/schemas';
import type { LineageLink } from '@civic-ledger/storage';

export function lineageLinks(event: Event, index: number): LineageLink[] {
  if (!isMovement(event)) return [];
  const inputs = event.inputs;
  const links: LineageLink[] = [];
  // Each distinct input once, in first-occurrence order (inputs are few: no Set needed).
  for (let i = 0; i < inputs.length; i++) {
    if (inputs.indexOf(inputs[i]!) === i) links.push({ index, input: inputs[i]! });
  }
  return links;
}
