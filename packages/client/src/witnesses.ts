// Cosigned checkpoints for the SDK: a witness policy (c2sp.org/tlog-policy) given to the
// client makes every checkpoint it relies on carry the cosignatures of the policy's quorum,
// so a ledger operator cannot show this client a history the witnesses never saw.
import { readFileSync } from 'node:fs';
import { parseVerifierKey } from '@civic-ledger/crypto';
import {
  checkQuorum,
  describeShortfall,
  isWitnessError,
  parsePolicy,
  quorumShortfall,
  type Policy,
} from '@civic-ledger/witness';

export { quorumShortfall, type QuorumShortfall } from '@civic-ledger/witness';
import { ClientError } from './errors.ts';

/** What a checkpoint's cosignatures satisfied: the witnesses (policy names) that cosigned it. */
export interface QuorumChecked {
  quorum: string;
  witnesses: string[];
}

/** A parsed Policy (of @civic-ledger/witness's parsePolicy). */
export function isPolicy(v: unknown): v is Policy {
  const p = v as Policy;
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray(p.logs) &&
    Array.isArray(p.witnesses) &&
    Array.isArray(p.groups)
  );
}

/**
 * The policy of the client's options: `policy` (the file's text or bytes, or a parsed Policy)
 * or `policyFile` (a path, read once). It must have a quorum and list the pinned log key (with
 * `logKeys`: one of the pinned keys).
 * INVALID_ARGUMENT naming the option (and the policy line) otherwise.
 */
export function loadClientPolicy(
  options: { policy?: string | Uint8Array | Policy | undefined; policyFile?: string | undefined },
  log: { logKey?: string; logKeys?: readonly { key: string }[]; origin: string },
): Policy | undefined {
  if (options.policy !== undefined && options.policyFile !== undefined) {
    throw new ClientError('INVALID_ARGUMENT', 'options.policy and options.policyFile: give one, not both');
  }
  const option = options.policyFile !== undefined ? 'options.policyFile' : 'options.policy';
  let input: string | Uint8Array | Policy;
  if (options.policyFile !== undefined) {
    try {
      input = readFileSync(options.policyFile);
    } catch (cause) {
      throw new ClientError(
        'INVALID_ARGUMENT',
        `${option}: cannot read ${options.policyFile}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  } else if (options.policy !== undefined) {
    input = options.policy;
  } else {
    return undefined;
  }
  let policy: Policy;
  try {
    policy = isPolicy(input) ? input : parsePolicy(input);
  } catch (cause) {
    const line = isWitnessError(cause) ? cause.details['line'] : undefined;
    throw new ClientError('INVALID_ARGUMENT', `${option}: ${(cause as Error).message}`, {
      details: { option, ...(typeof line === 'number' ? { line } : {}) },
      cause,
    });
  }
  if (policy.quorum === undefined) {
    throw new ClientError('INVALID_ARGUMENT', `${option}: the policy has no quorum line`, {
      details: { option },
    });
  }
  const keys = log.logKeys?.map((k) => k.key) ?? (log.logKey === undefined ? [] : [log.logKey]);
  const listed = keys.some((key) => {
    const pinned = parseVerifierKey(key.trim());
    return policy.logs.some((l) => {
      const k = parseVerifierKey(l.verifierKey);
      return (
        l.origin === log.origin && k.name === pinned.name && Buffer.from(k.publicKey).equals(pinned.publicKey)
      );
    });
  });
  if (!listed) {
    const what = keys.length === 1 ? `the pinned log key ${keys[0]}` : 'any of the pinned log keys';
    throw new ClientError(
      'INVALID_ARGUMENT',
      `${option}: the policy has no log line with ${what} (origin ${log.origin})`,
      { details: { option } },
    );
  }
  return policy;
}

/**
 * Requires the policy's quorum over a checkpoint note: QUORUM_NOT_MET (message naming the
 * groups that fail; details quorum, size, witnesses, shortfall) or CHECKPOINT_UNVERIFIED
 * (details.reason: a known witness's cosignature that does not verify, a log signature
 * missing...). The log signature itself is checked by the caller with the pinned key.
 */
export function requirePolicyQuorum(note: string, policy: Policy): QuorumChecked {
  let r;
  try {
    r = checkQuorum(note, policy);
  } catch (cause) {
    const reason = isWitnessError(cause) ? cause.code : 'UNKNOWN';
    throw new ClientError(
      'CHECKPOINT_UNVERIFIED',
      `checkpoint refused by the witness policy: ${(cause as Error).message}`,
      {
        details: { reason },
        cause,
      },
    );
  }
  if (!r.ok) {
    const shortfall = quorumShortfall(policy, r.witnesses);
    throw new ClientError(
      'QUORUM_NOT_MET',
      `the checkpoint of size ${r.size} lacks the witness quorum "${policy.quorum}": ${describeShortfall(shortfall)}`,
      { details: { quorum: policy.quorum, size: r.size, witnesses: [...r.witnesses], shortfall } },
    );
  }
  return { quorum: policy.quorum!, witnesses: [...r.witnesses] };
}
