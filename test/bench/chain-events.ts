// Demo-sized (about 500-650 bytes) chained events for ledger benchmarks: several streams
// of one organization, collections and the transfers and uses that follow them, each
// linked by seq/prev and naming real inputs, as a city's system emits them.
import { canonicalize } from '@civic-ledger/canonical-json';
import { fromHex, sha256HexOfUtf8, signDigest, type SigningKey } from '@civic-ledger/crypto';

const FAKE_SIGNATURE = Buffer.alloc(64).toString('base64');

export interface ChainEventOptions {
  emitter: string;
  key: SigningKey;
  streams?: number;
  /** Sign for real (default) or put a placeholder signature (for the pre-verified path). */
  sign?: boolean;
  /** Stream names are `${streamPrefix}${n}` (default "s"): separate sources, separate chains. */
  streamPrefix?: string;
}

export type BenchEvent = { event: Record<string, unknown>; signature: string };

/** The number of cameras the collects cycle through. */
const CAMERAS = 50;

/** The dataset every event of `emitter` names (it must be registered before them). */
export function benchDatasetId(emitter: string): string {
  return `${emitter}/traffic-counts/north`;
}

/** The sources the collects of `emitter` name (they must be registered before them). */
export function benchSourceIds(emitter: string): string[] {
  return Array.from({ length: CAMERAS }, (_, i) => cameraId(emitter, i));
}

function cameraId(emitter: string, i: number): string {
  return `${emitter}/cameras/north-${String(i).padStart(2, '0')}`;
}

export function chainEvents(n: number, o: ChainEventOptions): BenchEvent[] {
  return chainEventSource(o)(n);
}

/** A generator of successive chunks of one continuing set of chains (bounded memory). */
export function chainEventSource(o: ChainEventOptions): (n: number) => BenchEvent[] {
  const streams = o.streams ?? 4;
  const state = Array.from({ length: streams }, () => ({ seq: 0, prev: '0'.repeat(64) }));
  const recent: string[] = [];
  let i = -1;
  return (n) => {
    const out: BenchEvent[] = [];
    for (let k = 0; k < n; k++) {
      i++;
      const s = i % streams;
      const st = state[s]!;
      const version = `sha256:${sha256HexOfUtf8(`v${i}`)}`;
      const common = {
        v: 1,
        emitter: o.emitter,
        stream: `${o.streamPrefix ?? 's'}${s}`,
        seq: st.seq + 1,
        prev: st.prev,
        time: '2026-11-02T08:15:00.000Z',
        key: o.key.name,
        dataset: { id: benchDatasetId(o.emitter), version },
        purpose: 'city:TrafficManagement',
        declaration: sha256HexOfUtf8(`declaration${i % 7}`),
      };
      const kind = recent.length < 8 ? 0 : i % 3;
      const event =
        kind === 0
          ? {
              ...common,
              type: 'collect',
              source: cameraId(o.emitter, i % CAMERAS),
              inputs: [],
              categories: ['city:VehicleCount'],
              personalData: 'none',
              records: 900 + (i % 100),
              format: 'text/csv',
            }
          : kind === 1
            ? {
                ...common,
                type: 'transfer',
                inputs: [recent[(i * 7) % recent.length]!],
                recipient: 'statistics-office',
                purpose: 'city:OfficialStatistics',
                records: 900 + (i % 100),
              }
            : {
                ...common,
                type: 'use',
                inputs: [recent[(i * 13) % recent.length]!],
                action: 'city:SignalTiming',
                records: 12,
              };
      const hash = sha256HexOfUtf8(canonicalize(event));
      st.seq += 1;
      st.prev = hash;
      recent.push(hash);
      if (recent.length > 64) recent.shift();
      const signature =
        o.sign === false
          ? FAKE_SIGNATURE
          : Buffer.from(signDigest(o.key, 'event', fromHex(hash))).toString('base64');
      out.push({ event, signature });
    }
    return out;
  };
}
