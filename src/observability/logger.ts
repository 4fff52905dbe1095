import { pino, type Logger } from 'pino';

/** pino JSON logs on stdout; the level comes from configuration (VIGIL_LOG_LEVEL). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'vigil' } });
}

export type { Logger };
