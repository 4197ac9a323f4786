// Misuse for the demo city: hooks that add a realistic share of movements breaking the
// declarations, so the quick start shows findings. Each is an extra event on a stream of
// its own (`<org>/adhoc`), so the city's own events keep their content; each names real
// data the organization holds and the declaration it claims, as a careless agency would.
import type { DemoCityHooks, HookContext, Holding, PoolName } from './generate.ts';
import { FAMILIES, ORG } from './city.ts';

export const VIOLATION_KINDS = [
  /** Held data used for a purpose its declaration does not list (advertising). */
  'undeclared-purpose',
  /** Raw camera video handed to the police for general public safety (declared: traffic and enforcement). */
  'video-to-police',
  /** Raw Wi-Fi device identifiers sent to an advertising vendor the declaration does not allow. */
  'wifi-to-advertiser',
  /** A vendor passing data it received on to another vendor, with no next policy. */
  'onward-without-policy',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export interface ViolationOptions {
  /** Chance per hour of the window that one violation is written (default 0.08). */
  perHour?: number;
  /** Kinds to write (default all). */
  kinds?: readonly ViolationKind[];
  /** Told of each violation written (tests, the quick start's summary). */
  onViolation?: (v: { kind: ViolationKind; hash: string; org: string }) => void;
}

const ADVERTISING = 'city:Advertising';

function recent(ctx: HookContext, pool: PoolName, pick: number): Holding | undefined {
  const list = ctx.pools.get(pool) ?? [];
  return list.length === 0 ? undefined : list[list.length - 1 - (pick % Math.min(4, list.length))];
}

/** Hooks writing violations at random hours (deterministic for a seed). */
export function violationHooks(options: ViolationOptions = {}): DemoCityHooks {
  const perHour = options.perHour ?? 0.08;
  const kinds = options.kinds ?? VIOLATION_KINDS;
  // Raw Wi-Fi captures are in no pool: remember the latest as the city writes it.
  let rawWifi: { hash: string; dataset: { id: string; version: string } } | undefined;
  return {
    event(submission, ctx) {
      const e = submission.event as {
        type?: string;
        declaration?: string;
        dataset?: { id: string; version: string };
      };
      if (e.type === 'collect' && e.declaration === ctx.declarations.wifi && e.dataset !== undefined) {
        rawWifi = { hash: submission.hash, dataset: e.dataset };
      }
    },
    phase(phase, ctx) {
      if (phase !== 'hour-end' || kinds.length === 0) return;
      const rng = ctx.rng('violations');
      if (!rng.chance(perHour)) return;
      const kind = kinds[rng.int(kinds.length)]!;
      const pick = rng.int(4);
      const write = (org: string, body: Parameters<HookContext['emit']>[2]) => {
        const sub = ctx.emit(org, 'adhoc', body);
        options.onViolation?.({ kind, hash: sub.hash, org });
      };
      switch (kind) {
        case 'undeclared-purpose': {
          const h = recent(ctx, 'traffic', pick) ?? recent(ctx, 'parking', pick);
          if (h === undefined) return;
          write(h.org, {
            type: 'use',
            dataset: h.dataset,
            inputs: [h.hash],
            purpose: ADVERTISING,
            declaration: ctx.declarations[h.family],
            action: 'city:AudienceTargeting',
          });
          return;
        }
        case 'video-to-police': {
          const h = recent(ctx, 'video-live', pick);
          if (h === undefined) return;
          write(h.org, {
            type: 'transfer',
            dataset: h.dataset,
            inputs: [h.hash],
            purpose: 'city:PublicSafety',
            declaration: ctx.declarations[h.family],
            recipient: ORG.police,
          });
          return;
        }
        case 'wifi-to-advertiser': {
          if (rawWifi === undefined) return;
          write(FAMILIES.wifi.org, {
            type: 'transfer',
            dataset: rawWifi.dataset,
            inputs: [rawWifi.hash],
            purpose: ADVERTISING,
            declaration: ctx.declarations.wifi,
            recipient: ORG.vendorA,
          });
          return;
        }
        case 'onward-without-policy': {
          const h = recent(ctx, 'vendor-a', pick);
          if (h === undefined) return;
          const family = FAMILIES[h.family];
          write(h.org, {
            type: 'transfer',
            dataset: h.dataset,
            inputs: [h.hash],
            purpose: family.purposes[0]!.id,
            declaration: ctx.declarations[h.family],
            recipient: ORG.vendorB,
          });
          return;
        }
      }
    },
  };
}
