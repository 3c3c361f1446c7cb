import dotenv from 'dotenv';
import { parseConfig, type Config } from './config/config.js';
import { createLogger } from './observability/logger.js';
import { startServer, type RunningServer } from './server.js';

// Real environment variables win over .env, as the dotenv convention has it.
dotenv.config({ quiet: true });

const parsed = parseConfig(process.env);
if (!parsed.ok) {
  for (const problem of parsed.problems) console.error(`config: ${problem}`);
  process.exit(1);
}
const config = parsed.config;
const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });

let running: RunningServer | undefined;
let exitCode = 0;

/**
 * The one way out once the server runs: a signal and a fatal error both finish in-flight requests
 * and close the backend first (shutdown() is idempotent), and the worst exit code asked for wins.
 * If the shutdown itself hangs, the process still exits a second after SHUTDOWN_TIMEOUT_MS.
 */
function stop(code: number): void {
  exitCode = Math.max(exitCode, code);
  setTimeout(() => process.exit(exitCode), config.SHUTDOWN_TIMEOUT_MS + 1_000).unref();
  (running?.shutdown() ?? Promise.resolve()).then(
    () => process.exit(exitCode),
    (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
}

// A fatal error is logged once, as fatal, and then goes through the same graceful stop; one that
// follows it while the process is stopping is only an error (the first is the cause).
let fatal = false;
for (const [event, message] of [
  ['uncaughtException', 'uncaught exception'],
  ['unhandledRejection', 'unhandled promise rejection'],
] as const) {
  process.on(event, (error: unknown) => {
    if (fatal) {
      logger.error({ err: error, event: 'process.fatal_while_stopping' }, `${message} while stopping`);
      return;
    }
    fatal = true;
    logger.fatal({ err: error, event: 'process.fatal', kind: event }, `${message}; stopping`);
    stop(1);
  });
}

try {
  running = await startServer(config, logger);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ event: 'server.signal', signal }, `received ${signal}`);
      stop(0);
    });
  }
} catch (error) {
  const line = listenProblem(error, config);
  if (line) console.error(`config: ${line}`);
  else logger.fatal({ err: error }, 'could not start');
  process.exit(1);
}

/** A port or address the server cannot listen on is a configuration problem: one line naming it, as for a bad value. */
function listenProblem(error: unknown, { PORT, HOST }: Config): string | undefined {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return `PORT: ${PORT} is already in use on ${HOST} (another process listens there; choose another PORT or stop it)`;
    case 'EACCES':
      return `PORT: not allowed to listen on ${PORT} (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `HOST: ${HOST} is not an address of this machine`;
    default:
      return undefined;
  }
}
