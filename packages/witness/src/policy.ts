// Transparency log trust policies (c2sp.org/tlog-policy) and quorum checks over cosigned
// checkpoints.
//
//   log <vkey> [<url>]                         a log: its key name is the checkpoint origin
//   witness <name> <vkey> [<url>]              a witness: a cosignature/v1 key (type 0x04)
//   group <name> <k|all|any> <name>...         k of its members (witnesses or groups) must witness
//   quorum <name|none>                         exactly once
//
// Items are separated by spaces and tabs; blank lines and lines starting with '#' are
// ignored; a name can only use names defined on preceding lines, and each name can be a
// group member once in the whole file.
import { parseVerifierKey, toHex, type VerifierKey } from '@civic-ledger/crypto';
import {
  SignedNoteError,
  openNote,
  parseCheckpoint,
  parseNote,
  verifierFromKeyText,
  type Checkpoint,
  type NoteLimits,
  type NoteSignature,
} from '@civic-ledger/signed-note';
import { parseCosignatureVerifierKey, verifyCosignature, type CosignatureVerifier } from './cosignature.ts';
import { WitnessError, isWitnessError, type WitnessErrorCode } from './errors.ts';

/** The predefined name of the empty quorum (no cosignature needed). */
export const QUORUM_NONE = 'none';

/** What parsePolicy accepts at most (the spec asks for at least 32 of each). */
export const POLICY_LIMITS = Object.freeze({
  maxBytes: 1 << 20,
  maxLogs: 256,
  maxWitnesses: 256,
  maxGroups: 256,
});

export interface PolicyLog {
  /** The log's origin: its verifier key's name. */
  readonly origin: string;
  /** Ed25519 note verifier key (type 0x01). */
  readonly verifierKey: string;
  readonly url?: string;
  /** 1-based line in the policy text (0 when built in code). */
  readonly line: number;
}

export interface PolicyWitness {
  /** The name the policy gives the witness (for groups and the quorum only). */
  readonly name: string;
  /** Cosignature/v1 verifier key (type 0x04); its key name is the one on cosignature lines. */
  readonly verifierKey: string;
  /** The submission prefix of its tlog-witness API. */
  readonly url?: string;
  readonly line: number;
}

export interface PolicyGroup {
  readonly name: string;
  /** k: how many members must have witnessed. */
  readonly threshold: number;
  /** The threshold as written: 'all', 'any' or the decimal k. */
  readonly spelled: string;
  readonly members: readonly string[];
  readonly line: number;
}

export interface Policy {
  readonly logs: readonly PolicyLog[];
  readonly witnesses: readonly PolicyWitness[];
  /** In definition order (each group names only witnesses and earlier groups). */
  readonly groups: readonly PolicyGroup[];
  /** A witness or group name, `none`, or undefined when parsed with requireQuorum: false. */
  readonly quorum: string | undefined;
}

export interface ParsePolicyOptions {
  /** Require exactly one quorum line (default true; a witness's list of logs needs none). */
  readonly requireQuorum?: boolean;
}

function fail(code: WitnessErrorCode, line: number, message: string, cause?: unknown): never {
  throw new WitnessError(
    code,
    `policy line ${line}: ${message}`,
    { line },
    cause === undefined ? undefined : { cause },
  );
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 0x0a) line++;
  return line;
}

// The spec's character set: tab, newline, printable ASCII and anything non-ASCII.
function decodePolicy(input: string | Uint8Array): string {
  let text: string;
  if (typeof input === 'string') {
    if (Buffer.byteLength(input, 'utf8') > POLICY_LIMITS.maxBytes) {
      throw new WitnessError('POLICY_TOO_LARGE', `a policy is at most ${POLICY_LIMITS.maxBytes} bytes`);
    }
    if (!input.isWellFormed())
      throw new WitnessError('POLICY_CHARACTER', 'the policy is not well-formed Unicode');
    text = input;
  } else if (input instanceof Uint8Array) {
    if (input.byteLength > POLICY_LIMITS.maxBytes) {
      throw new WitnessError('POLICY_TOO_LARGE', `a policy is at most ${POLICY_LIMITS.maxBytes} bytes`);
    }
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch (cause) {
      throw new WitnessError('POLICY_CHARACTER', 'the policy is not valid UTF-8', {}, { cause });
    }
  } else {
    throw new WitnessError('POLICY_CHARACTER', 'a policy is a string or bytes');
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f) {
      const what =
        c === 0x0d
          ? 'a carriage return (save the file with LF line endings)'
          : `character U+${c.toString(16).padStart(4, '0')}`;
      fail('POLICY_CHARACTER', lineOf(text, i), `${what} is not allowed`);
    }
  }
  return text;
}

function checkUrl(url: string, line: number): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    fail('POLICY_BAD_URL', line, `${JSON.stringify(url)} is not a URL`, cause);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    fail('POLICY_BAD_URL', line, `${JSON.stringify(url)} is not an http(s) URL`);
  }
  return url;
}

/**
 * Parses a policy (c2sp.org/tlog-policy). Strict: every error is a WitnessError with a
 * POLICY_* code and `details.line`. Log keys must be Ed25519 note keys (0x01), witness keys
 * cosignature/v1 keys (0x04); no public key may appear twice, for a log or a witness.
 */
export function parsePolicy(input: string | Uint8Array, options: ParsePolicyOptions = {}): Policy {
  const text = decodePolicy(input);
  const logs: PolicyLog[] = [];
  const witnesses: PolicyWitness[] = [];
  const groups: PolicyGroup[] = [];
  let quorum: string | undefined;
  let quorumLine = 0;
  const names = new Map<string, number>(); // name -> line defined
  const memberOf = new Map<string, number>(); // name -> line of the group listing it
  const keys = new Map<string, number>(); // hex public key -> line

  const addKey = (publicKey: Uint8Array, line: number): void => {
    const hex = toHex(publicKey);
    const seen = keys.get(hex);
    if (seen !== undefined)
      fail('POLICY_DUPLICATE_KEY', line, `this public key is already listed on line ${seen}`);
    keys.set(hex, line);
  };
  const define = (name: string, line: number): void => {
    if (name === QUORUM_NONE) fail('POLICY_RESERVED_NAME', line, '"none" is predefined');
    const seen = names.get(name);
    if (seen !== undefined)
      fail('POLICY_DUPLICATE_NAME', line, `${JSON.stringify(name)} is already defined on line ${seen}`);
    names.set(name, line);
  };

  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const [keyword, ...args] = trimmed.split(/[ \t]+/) as [string, ...string[]];
    switch (keyword) {
      case 'log': {
        if (args.length < 1 || args.length > 2)
          fail('POLICY_ARGUMENTS', line, 'a log line is: log <vkey> [<url>]');
        if (logs.length >= POLICY_LIMITS.maxLogs)
          fail('POLICY_TOO_LARGE', line, `more than ${POLICY_LIMITS.maxLogs} logs`);
        let key: VerifierKey;
        try {
          key = parseVerifierKey(args[0]!);
        } catch (cause) {
          const type =
            (cause as { code?: string }).code === 'UNSUPPORTED_KEY_TYPE'
              ? ' (log keys are Ed25519 note keys, type 0x01)'
              : '';
          fail(
            'POLICY_BAD_KEY',
            line,
            `the log key does not parse: ${(cause as Error).message}${type}`,
            cause,
          );
        }
        addKey(key.publicKey, line);
        logs.push({
          origin: key.name,
          verifierKey: args[0]!,
          ...(args[1] === undefined ? {} : { url: checkUrl(args[1], line) }),
          line,
        });
        return;
      }
      case 'witness': {
        if (args.length < 2 || args.length > 3)
          fail('POLICY_ARGUMENTS', line, 'a witness line is: witness <name> <vkey> [<url>]');
        if (witnesses.length >= POLICY_LIMITS.maxWitnesses) {
          fail('POLICY_TOO_LARGE', line, `more than ${POLICY_LIMITS.maxWitnesses} witnesses`);
        }
        const [name, vkey, url] = args as [string, string, string?];
        let key: CosignatureVerifier;
        try {
          key = parseCosignatureVerifierKey(vkey);
        } catch (cause) {
          const type = isWitnessError(cause, 'UNSUPPORTED_KEY_TYPE')
            ? ' (witness keys are cosignature/v1 keys, type 0x04)'
            : '';
          fail(
            'POLICY_BAD_KEY',
            line,
            `the witness key does not parse: ${(cause as Error).message}${type}`,
            cause,
          );
        }
        define(name, line);
        addKey(key.publicKey, line);
        witnesses.push({
          name,
          verifierKey: vkey,
          ...(url === undefined ? {} : { url: checkUrl(url, line) }),
          line,
        });
        return;
      }
      case 'group': {
        if (args.length < 3)
          fail('POLICY_ARGUMENTS', line, 'a group line is: group <name> <k|all|any> <name>...');
        if (groups.length >= POLICY_LIMITS.maxGroups)
          fail('POLICY_TOO_LARGE', line, `more than ${POLICY_LIMITS.maxGroups} groups`);
        const [name, spelled, ...members] = args as [string, string, ...string[]];
        const n = members.length;
        let threshold: number;
        if (spelled === 'all') threshold = n;
        else if (spelled === 'any') threshold = 1;
        else if (/^[1-9][0-9]{0,8}$/.test(spelled) && Number(spelled) <= n) threshold = Number(spelled);
        else
          fail(
            'POLICY_BAD_THRESHOLD',
            line,
            `the threshold ${JSON.stringify(spelled)} is not all, any or a number from 1 to ${n}`,
          );
        const inGroup = new Set<string>();
        for (const m of members) {
          if (m === QUORUM_NONE) fail('POLICY_RESERVED_NAME', line, '"none" cannot be a group member');
          if (!names.has(m))
            fail('POLICY_UNDEFINED_NAME', line, `${JSON.stringify(m)} is not defined on a preceding line`);
          if (inGroup.has(m)) fail('POLICY_DUPLICATE_MEMBER', line, `${JSON.stringify(m)} is listed twice`);
          const used = memberOf.get(m);
          if (used !== undefined) {
            fail(
              'POLICY_DUPLICATE_MEMBER',
              line,
              `${JSON.stringify(m)} is already a member of the group on line ${used}`,
            );
          }
          inGroup.add(m);
        }
        define(name, line);
        for (const m of members) memberOf.set(m, line);
        groups.push({ name, threshold, spelled, members, line });
        return;
      }
      case 'quorum': {
        if (args.length !== 1) fail('POLICY_ARGUMENTS', line, 'a quorum line is: quorum <name>');
        if (quorum !== undefined)
          fail('POLICY_QUORUM_REPEATED', line, `the quorum is already set on line ${quorumLine}`);
        const name = args[0]!;
        if (name !== QUORUM_NONE && !names.has(name)) {
          fail('POLICY_UNDEFINED_NAME', line, `${JSON.stringify(name)} is not defined on a preceding line`);
        }
        quorum = name;
        quorumLine = line;
        return;
      }
      default:
        fail(
          'POLICY_UNKNOWN_KEYWORD',
          line,
          `unknown keyword ${JSON.stringify(keyword)} (log, witness, group or quorum)`,
        );
    }
  });
  if (quorum === undefined && options.requireQuorum !== false) {
    throw new WitnessError(
      'POLICY_QUORUM_MISSING',
      'the policy has no quorum line (use "quorum none" for none)',
      {},
    );
  }
  return { logs, witnesses, groups, quorum };
}

/** The policy text of `policy`: logs, witnesses, groups in order, then the quorum. */
export function formatPolicy(policy: Policy): string {
  const out: string[] = [];
  for (const l of policy.logs)
    out.push(l.url === undefined ? `log ${l.verifierKey}` : `log ${l.verifierKey} ${l.url}`);
  for (const w of policy.witnesses) {
    out.push(
      w.url === undefined
        ? `witness ${w.name} ${w.verifierKey}`
        : `witness ${w.name} ${w.verifierKey} ${w.url}`,
    );
  }
  for (const g of policy.groups) out.push(`group ${g.name} ${g.spelled} ${g.members.join(' ')}`);
  if (policy.quorum !== undefined) out.push(`quorum ${policy.quorum}`);
  return out.map((l) => `${l}\n`).join('');
}

/**
 * Whether the witnesses named in `signed` (policy witness names) satisfy the policy's
 * quorum. Throws POLICY_QUORUM_MISSING for a policy parsed without one.
 */
export function evaluateQuorum(policy: Policy, signed: Iterable<string>): boolean {
  if (policy.quorum === undefined)
    throw new WitnessError('POLICY_QUORUM_MISSING', 'the policy has no quorum');
  if (policy.quorum === QUORUM_NONE) return true;
  const have = new Set(signed);
  const groups = new Map(policy.groups.map((g) => [g.name, g]));
  const memo = new Map<string, boolean>();
  const holds = (name: string): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const group = groups.get(name);
    // Groups only name earlier definitions, so this recursion ends.
    const result =
      group === undefined ? have.has(name) : group.members.filter(holds).length >= group.threshold;
    memo.set(name, result);
    return result;
  };
  return holds(policy.quorum);
}

// Parsed keys per policy: checking many checkpoints against one policy parses them once.
const verifierCache = new WeakMap<Policy, { witnesses: CosignatureVerifier[] }>();

function verifiersOf(policy: Policy): { witnesses: CosignatureVerifier[] } {
  let v = verifierCache.get(policy);
  if (v === undefined) {
    v = { witnesses: policy.witnesses.map((w) => parseCosignatureVerifierKey(w.verifierKey)) };
    verifierCache.set(policy, v);
  }
  return v;
}

export interface CheckQuorumOptions extends NoteLimits {
  /** Clock in ms (default Date.now), for maxFutureSeconds. */
  readonly now?: () => number;
  /** Refuse (COSIGNATURE_FROM_FUTURE) a known witness's cosignature timestamped more than this
   * many seconds ahead of now. Default: no limit (the spec lets verifiers choose). */
  readonly maxFutureSeconds?: number;
}

export interface QuorumResult extends Checkpoint {
  /** Whether the verified cosignatures satisfy the policy's quorum. */
  readonly ok: boolean;
  /** The checkpoint body exactly as signed. */
  readonly text: string;
  /** The verifier key of the policy log whose signature verified. */
  readonly logKey: string;
  /** Policy names of the witnesses whose cosignature verified, in policy order. */
  readonly witnesses: readonly string[];
  /** Their cosignatures' timestamps. */
  readonly cosignatures: readonly { readonly witness: string; readonly timestamp: number }[];
  /** Signature lines of keys the policy does not list (ignored, as the spec requires). */
  readonly ignored: readonly NoteSignature[];
}

/**
 * Checks a cosigned checkpoint note against a policy: the checkpoint must be signed by a
 * policy log of its origin (UNKNOWN_LOG, LOG_SIGNATURE_MISSING, LOG_SIGNATURE_INVALID);
 * the first cosignature line of each policy witness must verify (COSIGNATURE_INVALID,
 * MALFORMED_COSIGNATURE, COSIGNATURE_FROM_FUTURE: one bad cosignature from a known key
 * rejects the note, as signed-note verification does); lines of other keys are ignored.
 * Returns whether the quorum holds and who signed. MALFORMED_NOTE for anything else.
 */
export function checkQuorum(
  note: string | Uint8Array,
  policy: Policy,
  options: CheckQuorumOptions = {},
): QuorumResult {
  let signatures: readonly NoteSignature[];
  let checkpoint: Checkpoint;
  let text: string;
  try {
    const parsed = parseNote(note, options);
    signatures = parsed.signatures;
    text = parsed.text;
    checkpoint = parseCheckpoint(text);
  } catch (cause) {
    throw new WitnessError(
      'MALFORMED_NOTE',
      `not a signed checkpoint: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
  const logs = policy.logs.filter((l) => l.origin === checkpoint.origin);
  if (logs.length === 0) {
    throw new WitnessError('UNKNOWN_LOG', `the policy lists no log ${JSON.stringify(checkpoint.origin)}`, {
      origin: checkpoint.origin,
    });
  }
  const logVerifiers = logs.map((l) => verifierFromKeyText(l.verifierKey));
  let logKey: string;
  try {
    const opened = openNote(note, logVerifiers, options);
    const first = opened.verifiedSignatures[0]!;
    logKey = logVerifiers.find((v) => v.name === first.name && v.keyId === first.keyId)!.verifierKey;
  } catch (cause) {
    if (cause instanceof SignedNoteError && cause.code === 'NO_VERIFIED_SIGNATURE') {
      throw new WitnessError(
        'LOG_SIGNATURE_MISSING',
        `no signature of the log ${checkpoint.origin}`,
        { origin: checkpoint.origin },
        { cause },
      );
    }
    throw new WitnessError(
      'LOG_SIGNATURE_INVALID',
      `the log signature does not verify: ${(cause as Error).message}`,
      { origin: checkpoint.origin },
      { cause },
    );
  }

  const { witnesses: verifiers } = verifiersOf(policy);
  const used = new Set<NoteSignature>();
  for (const l of logVerifiers)
    for (const s of signatures) if (s.name === l.name && s.keyId === l.keyId) used.add(s);
  const signed: string[] = [];
  const cosignatures: { witness: string; timestamp: number }[] = [];
  const now = options.now ?? Date.now;
  policy.witnesses.forEach((w, i) => {
    const v = verifiers[i]!;
    const mine = signatures.filter((s) => s.name === v.name && s.keyId === v.keyId);
    for (const s of mine) used.add(s);
    const first = mine[0];
    if (first === undefined) return;
    const c = verifyCosignature(text, first, v);
    if (
      options.maxFutureSeconds !== undefined &&
      c.timestamp > Math.floor(now() / 1000) + options.maxFutureSeconds
    ) {
      throw new WitnessError(
        'COSIGNATURE_FROM_FUTURE',
        `the cosignature of ${w.name} is dated ${c.timestamp}, in the future`,
        {
          witness: w.name,
          timestamp: c.timestamp,
        },
      );
    }
    signed.push(w.name);
    cosignatures.push({ witness: w.name, timestamp: c.timestamp });
  });
  return {
    ...checkpoint,
    ok: evaluateQuorum(policy, signed),
    text,
    logKey,
    witnesses: signed,
    cosignatures,
    ignored: signatures.filter((s) => !used.has(s)),
  };
}

/** checkQuorum, throwing QUORUM_NOT_MET (details: who signed) when the quorum does not hold. */
export function requireQuorum(
  note: string | Uint8Array,
  policy: Policy,
  options: CheckQuorumOptions = {},
): QuorumResult {
  const result = checkQuorum(note, policy, options);
  if (!result.ok) {
    throw new WitnessError(
      'QUORUM_NOT_MET',
      `the cosignatures of ${result.witnesses.length === 0 ? 'no witness' : result.witnesses.join(', ')} do not satisfy the quorum ${policy.quorum}`,
      { witnesses: result.witnesses, quorum: policy.quorum, origin: result.origin, size: result.size },
    );
  }
  return result;
}
