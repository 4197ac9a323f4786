export { runCli, COMMANDS, topHelp, VERSION } from './cli.ts';
export { CliError, EXIT, type CliErrorCode, type ExitCode } from './errors.ts';
export { processIo, progressBar, type Io, type Progress } from './io.ts';
export {
  configSchema,
  loadConfigFile,
  DEFAULT_CONFIG_FILE,
  type ConfigFile,
  type LoadedConfig,
} from './config.ts';
export { readStateFile, writeStateFile, type SavedState } from './state.ts';
export { sqliteSource } from './sqlite-source.ts';
export type { VerifyReport } from './commands/verify.ts';
