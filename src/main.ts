/**
 * Production entry point: reads the settings once, starts TicketZero, stops it cleanly on SIGTERM/SIGINT.
 * `.env` is read when present (local runs); in production the environment is set by the host.
 */
import { config as loadDotenv } from 'dotenv';
import { createTicketZero } from './app.js';
import { loadConfig } from './config/load-config.js';
import { ConfigError, PortInUseError } from './errors.js';

async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createTicketZero(config);
  try {
    await app.start();
  } catch (error) {
    if (error instanceof PortInUseError) {
      process.stderr.write(
        `TicketZero cannot start: port ${error.port} is in use by another program; stop it or set PORT to a free port.\n`,
      );
      await app.stop();
      process.exit(1);
    }
    throw error;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    app
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        app.log.error({ err: error }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `TicketZero failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
