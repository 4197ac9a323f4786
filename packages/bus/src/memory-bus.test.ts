import { describe, expect, it } from 'vitest';
import { describeBusContract } from './contract.ts';
import { MemoryBus } from './index.ts';

describeBusContract('in-process', { open: async () => new MemoryBus() });

describe('MemoryBus', () => {
  it('drops the oldest message of a stalled subscription beyond maxPending and says so', async () => {
    const overflows: string[] = [];
    const bus = new MemoryBus({ maxPending: 3, onOverflow: (s) => overflows.push(s) });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    await bus.subscribe('s', async (m) => {
      seen.push(new TextDecoder().decode(m.data));
      await gate;
    });
    for (const m of ['a', 'b', 'c', 'd', 'e']) await bus.publish('s', new TextEncoder().encode(m));
    // 'a' is being handled; b..e queued behind it with room for 3: 'b' is dropped.
    expect(overflows).toEqual(['s']);
    release();
    await bus.close();
    expect(seen[0]).toBe('a');
  });

  it('keeps the messages of a group for a member that joins later', async () => {
    const bus = new MemoryBus();
    const seen: string[] = [];
    const first = await bus.subscribe('jobs', async () => undefined, { group: 'g' });
    await first.close();
    await bus.publish('jobs', new TextEncoder().encode('waiting'));
    await bus.subscribe('jobs', async (m) => void seen.push(new TextDecoder().decode(m.data)), {
      group: 'g',
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['waiting']);
    await bus.close();
  });
});
