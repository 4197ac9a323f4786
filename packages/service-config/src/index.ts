// Configuration from the environment, validated once at start-up with zod. A wrong value is
// reported naming the variable and the rule, so a service can print it and exit 1.
import { readFileSync } from 'node:fs';
import { isValidKeyName, parseVerifierKey } from '@civic-ledger/crypto';
import { z } from 'zod';

/** A decimal integer variable in [min, max]. */
export const envInt = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().regex(/^\d+$/, 'a decimal integer').transform(Number).pipe(z.number().int().min(min).max(max));

/** A verifier key text `<name>+<8 hex key id>+<base64 key>`. */
export const verifierKeyText = z.string().refine(
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

export const logOrigin = z.string().refine(isValidKeyName, 'a log name: no white space, no "+"');

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** `mongodb://` or `mongodb+srv://` URL. */
export const mongoUrl = z.string().regex(/^mongodb(\+srv)?:\/\/\S+$/, 'a mongodb:// URL');

/** Prefix of every topic and subject of one log (several logs may share the brokers). */
export const busNamespace = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, '1 to 32 of a-z 0-9 - (not starting with -)');

/** A MongoDB database name for one log. */
export const databaseName = z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, '1 to 63 of A-Z a-z 0-9 _ -');

/** Comma-separated host:port list. */
export const brokerList = z
  .string()
  .regex(/^[\w.-]+:\d{1,5}(,[\w.-]+:\d{1,5})*$/, 'host:port[,host:port...]')
  .transform((s) => s.split(','));

/** Comma-separated nats:// URLs. */
export const natsUrls = z
  .string()
  .regex(/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/, 'nats://host:port[,nats://...]')
  .transform((s) => s.split(','));

export { loadNextLogKey, NEXT_LOG_KEY_VARIABLE } from './log-key.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  readonly issues: { variable: string; rule: string }[];
  constructor(issues: { variable: string; rule: string }[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.rule}`).join('\n')}`);
    this.issues = issues;
  }
}

/** Parses the environment with `schema`; throws ConfigError naming every wrong variable. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        variable: String(i.path[0] ?? '(environment)'),
        rule: i.code === 'invalid_type' && i.input === undefined ? 'required' : i.message,
      })),
    );
  }
  return parsed.data;
}

/**
 * Reads the file a variable names and parses it; an unreadable file or one `parse` refuses is
 * a ConfigError naming the variable, the path and the parser's message (never the content).
 */
export function readConfigFile<T>(
  variable: string,
  path: string,
  parse: (bytes: Buffer) => T,
  what = 'file',
): T {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError([{ variable, rule: `a readable ${what} (${path}: ${code})` }]);
  }
  try {
    return parse(bytes);
  } catch (e) {
    throw new ConfigError([{ variable, rule: `${path}: ${(e as Error).message}` }]);
  }
}

/** Runs a service's main: config errors print and exit 1; SIGTERM/SIGINT call `close` once, then exit. */
export async function runMain<T extends { close(): Promise<void> }>(
  name: string,
  load: () => T | Promise<T>,
  log: (service: T) => { info(o: object, m: string): void; error(o: object, m: string): void },
): Promise<T> {
  let service: T;
  try {
    service = await load();
  } catch (e) {
    const what = e instanceof ConfigError ? e.message : `could not start: ${(e as Error).message}`;
    process.stderr.write(`civic-ledger ${name}: ${what}\n`);
    process.exit(1);
  }
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(service).info({ signal }, 'closing');
      service.close().then(
        () => {
          log(service).info({}, 'closed');
          process.exit(0);
        },
        (e: unknown) => {
          log(service).error({ err: e }, 'close failed');
          process.exit(1);
        },
      );
    });
  }
  return service;
}
