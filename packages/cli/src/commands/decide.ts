// decide: "may this organization use (or transfer) this dataset for this purpose now?" —
// POST /v1/decisions of the compliance API. The ledger evaluates the movement that would be
// recorded, with every check a recorded one gets, and writes nothing. The exit code is the
// answer, so scripts can gate on it: 0 allow, 1 deny, 4 undetermined.
import { z } from 'zod';
import { nonEmpty, urlFlag } from '../args.ts';
import { defineCommand } from '../command.ts';
import { EXIT } from '../errors.ts';
import type { Io } from '../io.ts';
import { authHeaders, parseAnswer } from './common.ts';
import { complianceRequest, complianceUrl } from './findings.ts';

/** Exit codes of the answer; 2 (usage) and 3 (could not ask) keep their meaning. */
export const DECISION_EXIT = { allow: EXIT.OK, deny: EXIT.VERIFICATION_FAILED, undetermined: 4 } as const;

const HELP = `Usage: civic-ledger decide --url <url> --org <org> --dataset <id> --purpose <term>
                         [--recipient <org>] [--version <digest>] [--at <time>] [--json]

Asks the ledger whether an organization may use a dataset for a purpose now (with
--recipient: transfer it to that organization), before it does. The ledger evaluates the use
or transfer it would record, on the lineage of the organization's latest undeleted holding of
the dataset, against the purpose declarations in force, with every check a recorded movement
gets, and writes nothing. The answer is allow, deny (any violation) or undetermined (something
cannot be judged: an unknown purpose, a missing declaration), with the reasons.

  --org <org>             the organization that would act
  --dataset <id>          the dataset it would use or transfer (<org>/<name>)
  --purpose <term>        the purpose it would claim (e.g. city:RoadSafetyEnforcement)
  --recipient <org>       ask about a transfer to this organization instead of a use
  --version <digest>      one version of the dataset (sha256:<hex>; default: the latest held)
  --at <time>             when (RFC 3339; default: the time of the latest event in the log)
  --url <url>             the ledger's (or the compliance service's) base URL; --ledger is
                          the same flag
  --config <file>         config file (default ./civic-ledger.json when present)
  --token <file>          a file holding a bearer token (scope auditor) when the ledger
                          controls read access; default: the token in $CIVIC_LEDGER_TOKEN
  --json                  print the API's answer as JSON

Exit codes: 0 allow, 1 deny, 4 undetermined; 2 usage (a bad flag, or the server refused a
field: the flag is named), 3 could not ask (server unreachable, no compliance API there).
`;

const schema = z.object({
  config: nonEmpty.optional(),
  url: urlFlag.optional(),
  ledger: urlFlag.optional(),
  token: nonEmpty.optional(),
  org: nonEmpty,
  dataset: nonEmpty,
  purpose: nonEmpty,
  recipient: nonEmpty.optional(),
  version: nonEmpty.optional(),
  at: nonEmpty.optional(),
  json: z.boolean().default(false),
});
type Values = z.output<typeof schema>;

async function runDecide(v: Values, io: Io): Promise<number> {
  const url = complianceUrl(io, v, 'decide');
  const { decisionResponse } = await import('@civic-ledger/compliance-runner/schemas');
  const body = {
    org: v.org,
    dataset: v.dataset,
    purpose: v.purpose,
    ...(v.recipient === undefined ? {} : { recipient: v.recipient }),
    ...(v.version === undefined ? {} : { version: v.version }),
    ...(v.at === undefined ? {} : { at: v.at }),
  };
  const text = await complianceRequest(url, 'POST', '/v1/decisions', { body, headers: authHeaders(io, v) });
  const a = parseAnswer(decisionResponse, text, 'decision');
  const code = DECISION_EXIT[a.decision];
  if (v.json) {
    io.out(`${JSON.stringify(a)}\n`);
    return code;
  }
  const act =
    v.recipient === undefined
      ? `use ${v.dataset} for ${v.purpose}`
      : `transfer ${v.dataset} to ${v.recipient} for ${v.purpose}`;
  const verdict = { allow: 'may', deny: 'may not', undetermined: 'cannot be told whether it may' }[
    a.decision
  ];
  const lines = [
    `${a.decision.toUpperCase()}: ${v.org} ${verdict} ${act} (log read up to tree size ${a.asOf})`,
  ];
  if (a.holding !== null) lines.push(`  holding: ${a.holding}`);
  if (a.declaration !== null) lines.push(`  declaration in force: ${a.declaration}`);
  const open = a.reasons.filter((r) => r.outcome !== 'compliant');
  if (open.length > 0) {
    lines.push('reasons:');
    for (const r of open) lines.push(`  ${r.outcome} ${r.check}: ${r.explanation}`);
  }
  const passed = a.reasons.length - open.length;
  if (passed > 0) lines.push(`${passed} check${passed === 1 ? '' : 's'} passed`);
  lines.push('');
  io.out(lines.join('\n'));
  return code;
}

export const command = defineCommand({
  spec: {
    name: 'decide',
    summary: 'ask whether an organization may use or transfer a dataset for a purpose now (writes nothing)',
    help: HELP,
    options: {
      config: { type: 'string' },
      url: { type: 'string' },
      ledger: { type: 'string' },
      token: { type: 'string' },
      org: { type: 'string' },
      dataset: { type: 'string' },
      purpose: { type: 'string' },
      recipient: { type: 'string' },
      version: { type: 'string' },
      at: { type: 'string' },
      json: { type: 'boolean' },
    },
    schema,
  },
  // stdout drains before the process exits: main.ts waits for it, for every command.
  run: (v, io) => runDecide(v, io),
});
