// The witness status the operations endpoint serves, from the writer's ledger status or, on a
// standby, without one; the readiness line; the metrics text.
import type { WitnessingStatus, WitnessRound } from '@civic-ledger/ledger-core';
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
