// The standalone process: configuration from the environment, then the service; SIGTERM and
// SIGINT close it in order (stop intake, drain, ledger, store).
import { ConfigError, loadConfig, type ServiceConfig } from './config.ts';
import { startService } from './server.ts';

let config: ServiceConfig;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`civic-ledger standalone: ${e.message}\n`);
  process.exit(1);
}

const service = await startService(config).catch((e: unknown) => {
  // A file named by the environment that does not fit (the witness policy) is a configuration error too.
  const what = e instanceof ConfigError ? e.message : `could not start: ${(e as Error).message}`;
  process.stderr.write(`civic-ledger standalone: ${what}\n`);
  process.exit(1);
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    service.app.log.info({ signal }, 'closing');
    service.close().then(
      () => {
        service.app.log.info('closed');
        process.exit(0);
      },
      (e: unknown) => {
        service.app.log.error({ err: e }, 'close failed');
        process.exit(1);
      },
    );
  });
}
