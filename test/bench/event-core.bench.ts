// Event core: canonical JSON + hash throughput, and Ed25519 verification through our API,
// each against its baseline measured in the same run.
import { createPublicKey, hash, verify as nodeVerify } from 'node:crypto';
import { canonicalize } from '@civic-ledger/canonical-json';
import { fromHex, generateSigningKey, signDigest, signedMessage } from '@civic-ledger/crypto';
import { eventHashOfCanonical, verifyEventSignature } from '@civic-ledger/events';
import { canonicalEventText, event, type Event } from '@civic-ledger/schemas';
import canonicalizeReference from 'canonicalize';
import { demoEvents } from './demo-events.ts';
import { fmt, measure, pct, type Figure } from './lib.ts';

export function run(): Figure[] {
  const events = demoEvents(10_000);
  // The schema-compiled serializer is for validated events: check that these are.
  for (const e of events) event.parse(e);
  const avgBytes = events.reduce((n, e) => n + Buffer.byteLength(canonicalize(e)), 0) / events.length;
  const each = (f: (e: Event) => unknown) => () => {
    for (const e of events) f(e as Event);
    return events.length;
  };
  const r = measure([
    { name: 'ours', run: each((e) => eventHashOfCanonical(canonicalEventText(e))) },
    { name: 'generic', run: each((e) => eventHashOfCanonical(canonicalize(e))) },
    { name: 'stringify', run: each((e) => hash('sha256', JSON.stringify(e), 'hex')) },
    { name: 'reference', run: each((e) => hash('sha256', canonicalizeReference(e)!, 'hex')) },
    { name: 'ours-serialize-only', run: each((e) => canonicalEventText(e)) },
    { name: 'generic-serialize-only', run: each((e) => canonicalize(e)) },
    { name: 'stringify-only', run: each((e) => JSON.stringify(e)) },
    { name: 'reference-only', run: each((e) => canonicalizeReference(e)) },
  ]);
  const v = (k: string) => r.get(k)!.opsPerSec;
  const size = `${Math.round(avgBytes)} B events`;

  // Ed25519: the same signatures verified through our API and with raw node:crypto.
  const key = generateSigningKey('bench/k1');
  const digests = events.slice(0, 2000).map((e) => eventHashOfCanonical(canonicalize(e)));
  const sigs = digests.map((d) => signDigest(key, 'event', fromHex(d)));
  const messages = digests.map((d) => signedMessage('event', fromHex(d)));
  // A separately built KeyObject, as a caller using node:crypto directly would hold.
  const rawKey = createPublicKey({
    key: key.keyObject.export({ format: 'der', type: 'spki' }),
    format: 'der',
    type: 'spki',
  });
  const ed = measure(
    [
      {
        name: 'api',
        run: () => {
          for (let i = 0; i < digests.length; i++) verifyEventSignature(digests[i]!, sigs[i]!, key);
          return digests.length;
        },
      },
      {
        name: 'raw',
        run: () => {
          for (let i = 0; i < messages.length; i++) nodeVerify(null, messages[i]!, rawKey, sigs[i]!);
          return messages.length;
        },
      },
    ],
    { rounds: 5, roundMs: 400 },
  );
  const api = ed.get('api')!.opsPerSec;
  const raw = ed.get('raw')!.opsPerSec;

  return [
    {
      suite: 'event core',
      metric: `canonicalEventText (schema-compiled) + SHA-256, ${size} (events/s)`,
      value: fmt(v('ours')),
      baseline: `npm canonicalize + SHA-256: ${fmt(v('reference'))}`,
      ratio: `${(v('ours') / v('reference')).toFixed(2)}x`,
      target: '>= 3x',
      met: v('ours') >= 3 * v('reference'),
    },
    {
      suite: 'event core',
      metric: `canonicalEventText (schema-compiled) + SHA-256, ${size} (events/s)`,
      value: fmt(v('ours')),
      baseline: `JSON.stringify + SHA-256: ${fmt(v('stringify'))}`,
      ratio: pct(v('ours'), v('stringify')),
      target: '>= 50 %',
      met: v('ours') >= 0.5 * v('stringify'),
    },
    {
      suite: 'event core',
      metric: `canonicalEventText alone, ${size} (events/s)`,
      value: fmt(v('ours-serialize-only')),
      baseline: `npm canonicalize: ${fmt(v('reference-only'))}; JSON.stringify: ${fmt(v('stringify-only'))}`,
      ratio: `${(v('ours-serialize-only') / v('reference-only')).toFixed(2)}x; ${pct(v('ours-serialize-only'), v('stringify-only'))}`,
      target: '(context)',
      met: undefined,
    },
    {
      suite: 'event core',
      metric: `generic canonicalize (not schema-compiled), ${size} (events/s)`,
      value: `${fmt(v('generic'))} with SHA-256; ${fmt(v('generic-serialize-only'))} alone`,
      baseline: `schema-compiled: ${fmt(v('ours'))}; ${fmt(v('ours-serialize-only'))}`,
      ratio: `${(v('ours') / v('generic')).toFixed(2)}x; ${(v('ours-serialize-only') / v('generic-serialize-only')).toFixed(2)}x`,
      target: '(context)',
      met: undefined,
    },
    {
      suite: 'event core',
      metric: 'Ed25519 verify through our API (verifications/s)',
      value: fmt(api),
      baseline: `raw node:crypto verify, prebuilt KeyObject: ${fmt(raw)}`,
      ratio: pct(api, raw),
      target: '>= 95 %',
      met: api >= 0.95 * raw,
    },
  ];
}
