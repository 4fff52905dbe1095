import type { FastifyError, FastifyInstance } from 'fastify';
import { isAppError } from '../shared/errors.js';

/** Seconds senders are asked to wait before retrying a shed or failed write. */
const RETRY_AFTER_SECONDS = 1;

/** Fastify's own errors, mapped to Vigil's codes so every error body has the same shape. */
const fastifyCodes: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'REQUEST_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'REQUEST_UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'REQUEST_INVALID' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'REQUEST_INVALID' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'REQUEST_INVALID' },
};

/**
 * One error handler: AppError → its status and `{ error: code, detail }`; retryable errors
 * answer 503 with Retry-After (never "Too Many Requests": Prometheus and Alertmanager drop data on it).
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isAppError(error)) {
      if (error.retryable) reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
      // Shedding is expected under load and counted on /metrics; logging each one would add to the load.
      if (error.httpStatus >= 500 && error.code !== 'INGEST_OVERLOADED') request.log.warn({ err: error }, 'request failed');
      return reply.status(error.httpStatus).send({ error: error.code, detail: error.message });
    }
    if (error.validation) {
      return reply.status(400).send({ error: 'REQUEST_INVALID', detail: error.message });
    }
    const known = error.code ? fastifyCodes[error.code] : undefined;
    if (known) return reply.status(known.status).send({ error: known.code, detail: error.message });
    if (error instanceof SyntaxError || error.statusCode === 400) {
      return reply.status(400).send({ error: 'REQUEST_INVALID', detail: error.message });
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ error: 'REQUEST_INVALID', detail: error.message });
    }
    // A bug, not an outage: 500, not 503 + Retry-After (api.md keeps 503 for overload and
    // storage being down). Senders retry 5xx either way.
    request.log.error({ err: error }, 'unexpected error');
    return reply.status(500).send({ error: 'INTERNAL', detail: 'internal error (logged)' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: 'NOT_FOUND', detail: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
}
