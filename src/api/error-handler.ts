import type { FastifyError, FastifyInstance } from 'fastify';
import { isAppError } from '../shared/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `prometheus`: errors in the shape of Prometheus' HTTP API (`status`, `errorType`,
     * `error` = the message), for routes that Prometheus clients such as Grafana call.
     */
    errorShape?: 'prometheus';
  }
}

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

interface Answer {
  status: number;
  code: string;
  detail: string;
}

/** What an error answers, whatever the body's shape. */
function answerOf(error: FastifyError): Answer {
  if (isAppError(error)) return { status: error.httpStatus, code: error.code, detail: error.message };
  if (error.validation) return { status: 400, code: 'REQUEST_INVALID', detail: error.message };
  const known = error.code ? fastifyCodes[error.code] : undefined;
  if (known) return { status: known.status, code: known.code, detail: error.message };
  if (error instanceof SyntaxError || error.statusCode === 400) return { status: 400, code: 'REQUEST_INVALID', detail: error.message };
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return { status: error.statusCode, code: 'REQUEST_INVALID', detail: error.message };
  // A bug, not an outage: 500, not 503 + Retry-After (api.md keeps 503 for overload and
  // storage being down). Senders retry 5xx either way.
  return { status: 500, code: 'INTERNAL', detail: 'internal error (logged)' };
}

/** Prometheus' `errorType` for a status (web/api/v1 in Prometheus: bad_data, unavailable, internal…). */
function prometheusErrorType(status: number): string {
  if (status === 404) return 'not_found';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'internal';
  return 'bad_data';
}

/**
 * One error handler: AppError → its status and `{ error: code, detail }` (Prometheus' shape on
 * routes configured so); retryable errors answer 503 with Retry-After (never "Too Many
 * Requests": Prometheus and Alertmanager drop data on it).
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = answerOf(error);
    // Fastify says only "Unsupported Media Type": name the type, and where it was sent.
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      answer.detail = `Content-Type ${request.headers['content-type'] ?? 'none'} is not accepted by ${request.method} ${request.url.split('?')[0]}`;
    }
    if (isAppError(error)) {
      if (error.retryable) reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
      // Shedding is expected under load and counted on /metrics; logging each one would add to the load.
      if (error.httpStatus >= 500 && error.code !== 'INGEST_OVERLOADED') request.log.warn({ err: error }, 'request failed');
    } else if (answer.status >= 500) {
      request.log.error({ err: error }, 'unexpected error');
    }
    if (request.routeOptions.config?.errorShape === 'prometheus') {
      return reply.status(answer.status).send({ status: 'error', errorType: prometheusErrorType(answer.status), error: answer.detail });
    }
    return reply.status(answer.status).send({ error: answer.code, detail: answer.detail });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: 'NOT_FOUND', detail: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
}
