// What a subcommand module exports: its spec (flags, help, value rules) and its action.
// Heavy dependencies (the HTTP server, the ledger) are imported inside `run`, so `--help`
// and usage errors answer fast.
import type { z } from 'zod';
import type { CommandSpec } from './args.ts';
import type { Io } from './io.ts';

export interface Command<S extends z.ZodType = z.ZodType> {
  spec: CommandSpec<S>;
  /** Returns the exit code; throws CliError for usage and operational failures. */
  run(values: z.output<S>, io: Io): Promise<number>;
}

export function defineCommand<S extends z.ZodType>(command: Command<S>): Command<S> {
  return command;
}
