import dotenv from 'dotenv';
import { parseConfig } from './config/config.js';
import { createLogger } from './observability/logger.js';
import { startServer } from './server.js';

// Real environment variables win over .env, as the dotenv convention has it.
dotenv.config({ quiet: true });

const parsed = parseConfig(process.env);
if (!parsed.ok) {
  for (const problem of parsed.problems) console.error(`config: ${problem}`);
  process.exit(1);
}
const config = parsed.config;
const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });

process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason }, 'unhandled promise rejection');
  process.exit(1);
});

try {
  const running = await startServer(config, logger);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ event: 'server.signal', signal }, `received ${signal}`);
      running.shutdown().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
} catch (error) {
  logger.fatal({ err: error }, 'could not start');
  process.exit(1);
}
