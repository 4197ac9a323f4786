// Command-line parsing: node:util parseArgs (strict: an unknown flag or a missing value is a
// usage error), then zod over the parsed values so every rule is stated once and a wrong
// value is reported naming its flag.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { parseVerifierKey } from '@civic-ledger/crypto';
import { z } from 'zod';
import { usage } from './errors.ts';
import type { Io } from './io.ts';

export interface CommandSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full help text (`<cmd> --help`). */
  help: string;
  /** Flags, keyed by long name (`log-key`); `help` is added to every command. */
  options: ParseArgsOptionsConfig;
  /** Validates the parsed values (keyed by long name). */
  schema: S;
  /**
   * The name one positional argument is stored under in the values, or the names of several
   * in order (`token inspect <token>`); none allowed otherwise.
   */
  positional?: string | readonly string[];
}

export type Parsed<S extends z.ZodType> = { help: true } | { help: false; values: z.output<S> };

const HELP_OPTION: ParseArgsOptionsConfig = { help: { type: 'boolean', short: 'h' } };

function issueText(
  issue: z.core.$ZodIssue,
  raw: Record<string, unknown>,
  positional: readonly string[],
): string {
  const key = issue.path[0];
  if (typeof key !== 'string') return issue.message;
  const missing = raw[key] === undefined && issue.code === 'invalid_type';
  const name = positional.includes(key) ? `<${key}>` : `--${key}`;
  return `${name}: ${missing ? 'required' : issue.message}`;
}

/** Parses argv for a command; a usage error names the flag and the rule. */
export function parseCommand<S extends z.ZodType>(spec: CommandSpec<S>, argv: readonly string[]): Parsed<S> {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { ...spec.options, ...HELP_OPTION },
      strict: true,
      allowPositionals: true,
      allowNegative: true,
    }));
  } catch (e) {
    // parseArgs' messages already name the flag ("Unknown option '--x'", "Option '--port
    // <value>' argument missing").
    if (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS')) {
      throw usage(e.message);
    }
    throw e;
  }
  if (values['help'] === true) return { help: true };
  const names = spec.positional === undefined ? [] : [spec.positional].flat();
  if (positionals.length > names.length)
    throw usage(`unexpected argument ${JSON.stringify(positionals[names.length])}`);
  names.forEach((name, i) => (values = { ...values, [name]: positionals[i] }));
  const parsed = spec.schema.safeParse(values);
  if (!parsed.success) throw usage(parsed.error.issues.map((i) => issueText(i, values, names)).join('; '));
  return { help: false, values: parsed.data };
}

export function printHelp(io: Io, spec: CommandSpec): void {
  io.out(spec.help.endsWith('\n') ? spec.help : `${spec.help}\n`);
}

// Flag value rules, shared by the commands.

/** A decimal integer flag in [min, max]. */
export const intFlag = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, `a decimal integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `at least ${min}`).max(max, `at most ${max}`));

/** An http(s) base URL (no query or fragment); a trailing slash is removed. */
export const urlFlag = z
  .string()
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '';
    } catch {
      return false;
    }
  }, 'an http:// or https:// URL without query or fragment, e.g. http://127.0.0.1:8080')
  .transform((s) => s.replace(/\/+$/, ''));

/** C2SP verifier-key text `<name>+<8 hex key id>+<base64 key>`. */
export const verifierKeyFlag = z
  .string()
  .transform((s) => s.trim())
  .refine((s) => {
    try {
      parseVerifierKey(s);
      return true;
    } catch {
      return false;
    }
  }, 'a verifier key text <name>+<8 hex key id>+<base64 key>');

export const nonEmpty = z.string().min(1, 'must not be empty');

export const HEX_HASH = /^[0-9a-f]{64}$/;
