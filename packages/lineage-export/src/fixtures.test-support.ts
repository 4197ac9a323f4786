// Shared by the tests (not exported): hand-made entries with real hashes, and the demo city
// read back through the leaf format.
import { createHash } from 'node:crypto';
import { generateDemoCity, PLACEHOLDER_SIGNATURE } from '@civic-ledger/demo-city';
import { decodeLeaf, encodeLeafText } from '@civic-ledger/leaf';
import { canonicalEventText, GENESIS_PREV, timeToMillis, type EventInput } from '@civic-ledger/schemas';
import type { LedgerEntryInput } from './index.ts';

export function hashOf(event: EventInput): string {
  return createHash('sha256')
    .update(canonicalEventText(event as never), 'utf8')
    .digest('hex');
}

export function entryOf(index: number, event: EventInput, admitted?: string): LedgerEntryInput {
  return {
    index,
    admitted: admitted ?? new Date(timeToMillis(event.time) + 250).toISOString(),
    eventHash: hashOf(event),
    event,
  };
}

const d = (c: string) => `sha256:${c.repeat(64)}`;
export const DECL = 'd'.repeat(64);
export const RAW = { id: 'transport-agency/traffic-video', version: d('1') };
export const COUNTS = { id: 'statistics-office/traffic-counts', version: d('2') };

/** collect (transport) -> transfer (to statistics) -> derive (statistics) -> delete (statistics). */
export function tinyChain(): { entries: LedgerEntryInput[]; hashes: string[] } {
  const collect = {
    v: 1,
    emitter: 'transport-agency',
    stream: 'cameras',
    seq: 1,
    prev: GENESIS_PREV,
    time: '2026-10-01T08:00:00Z',
    key: 'transport-agency/k1',
    type: 'collect',
    dataset: RAW,
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: DECL,
    source: 'transport-agency/cameras/north-1',
    categories: ['dpv:VehicleLicence'],
    personalData: 'identified',
    records: 120,
    format: 'video/mp4',
  } satisfies EventInput;
  const transfer = {
    v: 1,
    emitter: 'transport-agency',
    stream: 'sharing',
    seq: 1,
    prev: GENESIS_PREV,
    time: '2026-10-01T09:00:00Z',
    key: 'transport-agency/k1',
    type: 'transfer',
    dataset: RAW,
    inputs: [hashOf(collect)],
    purpose: 'city:TrafficManagement',
    declaration: DECL,
    recipient: 'statistics-office',
    agreement: d('a'),
  } satisfies EventInput;
  const derive = {
    v: 1,
    emitter: 'statistics-office',
    stream: 'analytics',
    seq: 1,
    prev: GENESIS_PREV,
    time: '2026-10-01T10:00:00Z',
    key: 'statistics-office/k1',
    type: 'derive',
    dataset: COUNTS,
    inputs: [hashOf(transfer)],
    purpose: 'city:TrafficManagement',
    declaration: DECL,
    processing: ['infer', 'anonymise'],
    categories: ['city:VehicleCount'],
    personalData: 'anonymised',
    anonymisation: { technique: 'dpv:Aggregation', assessment: d('b'), parameter: 10 },
    records: 24,
    columns: [
      { output: 'vehicles', inputs: ['frame', 'lane'], transformation: 'indirect' },
      { output: 'camera', inputs: ['camera_id'], transformation: 'direct', masked: true },
    ],
  } satisfies EventInput;
  const del = {
    v: 1,
    emitter: 'statistics-office',
    stream: 'operations',
    seq: 1,
    prev: GENESIS_PREV,
    time: '2026-10-02T00:00:00Z',
    key: 'statistics-office/k1',
    type: 'delete',
    dataset: RAW,
    inputs: [hashOf(transfer)],
    purpose: 'city:TrafficManagement',
    declaration: DECL,
    method: 'erase',
  } satisfies EventInput;
  const events = [collect, transfer, derive, del];
  return { entries: events.map((e, i) => entryOf(10 + i, e)), hashes: events.map(hashOf) };
}

/** The demo city's events as the ledger would hand them out: leaves, decoded. */
export function demoCityEntries(size: number): LedgerEntryInput[] {
  const city = generateDemoCity({ seed: 'lineage-export', size, sign: false });
  const entries: LedgerEntryInput[] = [];
  for (const batch of city.batchesSync()) {
    for (const sub of batch) {
      const index = entries.length;
      const admitted = new Date(timeToMillis(String(sub.event.time)) + 5).toISOString();
      const text = encodeLeafText({
        index,
        admitted,
        eventCanonical: canonicalEventText(sub.event as never),
        signature: PLACEHOLDER_SIGNATURE,
      });
      entries.push(decodeLeaf(text));
    }
  }
  return entries;
}
