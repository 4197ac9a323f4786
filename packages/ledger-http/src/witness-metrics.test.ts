import { testWitnessingStatus, testWitnessRound } from '@civic-ledger/ledger-core/testing';
import { describe, expect, it } from 'vitest';
import { WitnessMetrics } from './witness-metrics.ts';

const round = testWitnessRound;
const status = testWitnessingStatus;

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
