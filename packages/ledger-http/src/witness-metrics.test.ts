import type { WitnessingStatus, WitnessRound } from '@civic-ledger/ledger-core';
import { describe, expect, it } from 'vitest';
import { WitnessMetrics } from './witness-metrics.ts';

const round = (quorum: boolean): WitnessRound => ({
  kind: 'checkpoint',
  size: 7,
  rootHash: 'AAAA',
  startedAt: Date.UTC(2026, 10, 2, 8),
  durationMs: 12,
  witnesses: [
    { witness: 'w1', url: 'http://127.0.0.1:1', result: 'cosigned', timestamp: 1, ms: 5 },
    {
      witness: 'w2',
      url: 'http://127.0.0.1:2',
      result: 'failed',
      code: 'WITNESS_UNREACHABLE',
      message: 'connection refused',
      ms: 3,
    },
  ],
  signed: quorum ? ['w1', 'w3'] : ['w1'],
  quorum,
  published: quorum,
  shortfall: quorum
    ? []
    : [{ name: 'oversight', threshold: 2, members: ['w1', 'w2', 'w3'], holding: ['w1'] }],
});

const status = (latest: WitnessRound): WitnessingStatus => ({
  quorum: 'oversight',
  intervalMs: 100,
  timeoutMs: 500,
  checkpointWithinMs: 1000,
  witnesses: [],
  published: latest.published
    ? { size: 7, createdAt: Date.UTC(2026, 10, 2, 8), witnesses: latest.signed }
    : null,
  latest,
  failingSince: latest.quorum ? null : Date.UTC(2026, 10, 2, 8),
});

describe('WitnessMetrics', () => {
  it('counts rounds by outcome and shows the quorum gauge', () => {
    const m = new WitnessMetrics();
    m.observe(round(true));
    m.observe(round(false));
    m.observe(round(false));
    const text = m.render(status(round(false)), 1000);
    expect(text).toContain('civic_ledger_witness_rounds_total{outcome="no_quorum"} 2');
    expect(text).toContain('civic_ledger_witness_rounds_total{outcome="published"} 1');
    expect(text).toContain('civic_ledger_witness_quorum 0');
    expect(m.render(status(round(true)), 1000)).toContain('civic_ledger_witness_published_size 7');
  });

  it('a process without a status (a standby) renders the promised delay only', () => {
    const text = new WitnessMetrics().render(undefined, 1000);
    expect(text).toContain('civic_ledger_checkpoint_within_seconds 1');
    expect(text).not.toContain('civic_ledger_witness_rounds_total');
  });
});
