// Configuration from the environment, validated once with zod. A wrong value is reported
// naming the variable and the rule; main.ts prints it and exits 1.
import { resolve } from 'node:path';
import { isValidKeyName, parseVerifierKey } from '@civic-ledger/crypto';
import { z } from 'zod';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().regex(/^\d+$/, 'a decimal integer').transform(Number).pipe(z.number().int().min(min).max(max));

const verifierKeyText = z.string().refine(
  (t) => {
    try {
      parseVerifierKey(t.trim());
      return true;
    } catch {
      return false;
    }
  },
  { message: 'a verifier key text: <name>+<8 hex key id>+<base64 key>' },
);

/** Every variable the service reads, with its default. */
export const envSchema = z.object({
  CIVIC_LEDGER_DATA_DIR: z.string().min(1).default('./data'),
  CIVIC_LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
  CIVIC_LEDGER_PORT: int(0, 65535).default(8080),
  CIVIC_LEDGER_ORIGIN: z
    .string()
    .refine(isValidKeyName, 'a log name: no white space, no "+"')
    .default('civic-ledger.localhost/log'),
  CIVIC_LEDGER_LOG_KEY_FILE: z.string().min(1).optional(),
  CIVIC_LEDGER_OPERATOR_KEY: verifierKeyText,
  CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: int(1).default(1000),
  CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: int(10).default(1000),
  CIVIC_LEDGER_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: int(0).default(6000),
  CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: int(0).default(6000),
  CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: int(0).default(10_000),
});

export interface ServiceConfig {
  dataDir: string;
  host: string;
  port: number;
  origin: string;
  /** Private log key file (PRIVATE+KEY+ text, mode 0600); created on first start if missing. */
  logKeyFile: string;
  /** The operator's first key (verifier key text): the trust anchor of the first event. */
  operatorKey: string;
  checkpoints: { maxEntries: number; maxDelayMs: number };
  logLevel: string;
  /** 0 = no limit. */
  rateLimitPerMinute: number;
  keyRateLimitPerMinute: number;
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: { variable: string; rule: string }[];
  constructor(issues: { variable: string; rule: string }[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.rule}`).join('\n')}`);
    this.issues = issues;
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): ServiceConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        variable: String(i.path[0] ?? '(environment)'),
        rule: i.code === 'invalid_type' && i.input === undefined ? 'required' : i.message,
      })),
    );
  }
  const e = parsed.data;
  const dataDir = resolve(e.CIVIC_LEDGER_DATA_DIR);
  return {
    dataDir,
    host: e.CIVIC_LEDGER_HOST,
    port: e.CIVIC_LEDGER_PORT,
    origin: e.CIVIC_LEDGER_ORIGIN,
    logKeyFile: resolve(e.CIVIC_LEDGER_LOG_KEY_FILE ?? `${dataDir}/log.key`),
    operatorKey: e.CIVIC_LEDGER_OPERATOR_KEY.trim(),
    checkpoints: {
      maxEntries: e.CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES,
      maxDelayMs: e.CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS,
    },
    logLevel: e.CIVIC_LEDGER_LOG_LEVEL,
    rateLimitPerMinute: e.CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE,
    keyRateLimitPerMinute: e.CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE,
    shutdownTimeoutMs: e.CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS,
  };
}
