import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Anything that could carry a secret is censored wherever it appears in a log object, so a
 * careless `log.info({ req })` cannot leak one.
 */
const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["x-auth-token"]',
  'res.headers["x-subject-token"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.OS_PASSWORD',
  '*.OS_APPLICATION_CREDENTIAL_SECRET',
  '*.API_KEYS',
  '*.API_READONLY_KEYS',
  '*.ADMIN_API_KEY',
  '*.REDIS_URL',
  '*.initial_key',
];

/** `destination` is for tests; the process logs to stdout. */
export function createLogger(options: { level: string; pretty: boolean }, destination?: DestinationStream): Logger {
  const settings = {
    level: options.level,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    ...(options.pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  };
  return destination ? pino(settings, destination) : pino(settings);
}
