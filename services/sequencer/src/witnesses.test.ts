// The witness status the operations endpoint serves, from the writer's ledger status or, on a
// standby, without one; the readiness line.
import type { WitnessingStatus } from '@civic-ledger/ledger-core';
import { testWitnessingStatus, testWitnessRound } from '@civic-ledger/ledger-core/testing';
import { describe, expect, it } from 'vitest';
import { sequencerWitnessStatus, witnessReadiness, type WitnessView } from './witnesses.ts';

const view = (role: string, status: WitnessingStatus | undefined): WitnessView => ({
  role: () => role,
  quorum: 'oversight',
  intervalMs: 100,
  timeoutMs: 500,
  checkpointWithinMs: 1000,
  status: () => status,
  treeSize: () => 7,
});

const round = testWitnessRound;
const status = testWitnessingStatus;

describe('sequencer witness status', () => {
  it('on a standby: its role, no rounds, nothing published by this process', () => {
    const body = sequencerWitnessStatus(view('standby', undefined));
    expect(body).toMatchObject({
      role: 'standby',
      quorum: 'oversight',
      quorumHeld: null,
      published: null,
      latest: null,
      witnesses: [],
    });
    expect(witnessReadiness(undefined, 'oversight')).toBe('quorum oversight (no round yet)');
  });

  it('on the writer: who cosigned the published checkpoint and why a witness failed', () => {
    const body = sequencerWitnessStatus(view('writer', status(round(true))));
    expect(body).toMatchObject({
      role: 'writer',
      quorumHeld: true,
      published: { size: 7, createdAt: '2026-11-02T08:00:00.000Z', witnesses: ['w1', 'w3'] },
      latest: { signed: ['w1', 'w3'], shortfall: null },
    });
    expect(body.latest!.witnesses[1]).toMatchObject({ result: 'failed', code: 'WITNESS_UNREACHABLE' });
    expect(witnessReadiness(status(round(true)), 'oversight')).toBe(
      'quorum oversight held at size 7 (w1, w3)',
    );
  });

  it('without the quorum: since when, and which group falls short', () => {
    const s = status(round(false));
    expect(sequencerWitnessStatus(view('writer', s))).toMatchObject({
      quorumHeld: false,
      failingSince: '2026-11-02T08:00:00.000Z',
      published: null,
    });
    expect(witnessReadiness(s, 'oversight')).toMatch(
      /^no quorum since 2026-11-02T08:00:00\.000Z: checkpoints are not stored until .*oversight/,
    );
  });
});
