import swagger, { type StaticDocumentSpec } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { openApiDocument } from './api/openapi.js';
import type { Logger } from 'pino';
import { alertRoutes } from './api/routes/alerts.routes.js';
import { healthRoutes } from './api/routes/health.routes.js';
import { incidentRoutes } from './api/routes/incidents.routes.js';
import { ingestRoutes } from './api/routes/ingest.routes.js';
import { seriesRoutes } from './api/routes/series.routes.js';
import { serviceRoutes } from './api/routes/services.routes.js';
import type { CatalogService } from './catalog/catalog.service.js';
import { registerAuth } from './api/auth.js';
import { registerErrorHandler } from './api/error-handler.js';
import { decodeContentEncoding, parseJsonBytes } from './api/request-body.js';
import { AppError } from './shared/errors.js';
import type { Config } from './config/index.js';
import type { AlertService } from './incidents/alert.service.js';
import type { IncidentService } from './incidents/incident.service.js';
import type { NotificationService } from './incidents/notification.service.js';
import type { IngestService } from './ingest/index.js';
import type { Metrics } from './observability/index.js';
import type { Clock } from './shared/clock.js';
import type { Store } from './storage/store.js';

export interface AppDeps {
  config: Readonly<Config>;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  store: Store;
  ingest: IngestService;
  alerts: AlertService;
  incidents: IncidentService;
  notifications: NotificationService;
  catalog: CatalogService;
  /** Resolves once every acknowledged sample is queryable. */
  whenWritesVisible: () => Promise<void>;
  /** Resolves once every acknowledged alert, incident or notification row of these tables is queryable. */
  whenRowsVisible: (tables: readonly string[]) => Promise<void>;
  isReady: () => Promise<boolean>;
}

/** Query parameters a request may repeat (Prometheus' series selectors). */
const REPEATABLE_PARAMETERS: ReadonlySet<string> = new Set(['match[]']);

/** Builds the HTTP application from its dependencies. Never listens: main.ts and tests do. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    // pino 10's Logger and Fastify's bundled pino typings differ only in optional members.
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    // One log line per ingest request would cost more than the request; errors are logged by our handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Ingest bodies have their own limits; this one covers the JSON API.
    bodyLimit: 1024 * 1024,
    // Ingest waits on durable storage; keep connections from senders open between batches.
    keepAliveTimeout: 65_000,
    forceCloseConnections: true,
    // Path parameters are ids: catalog ids reach 253 characters, sender fingerprints 255, and
    // either may come percent-encoded (Fastify's default of 100 refused valid ones with a 414).
    routerOptions: { maxParamLength: 1024 },
    // A path that does not decode, or a parameter past that length: Vigil's error shape too.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).status(error.statusCode ?? 400).send({ error: 'REQUEST_INVALID', detail: error.message });
    },
  });
  registerErrorHandler(app);
  // Before any body is read: an unauthenticated sender costs no parsing.
  if (deps.config.server.auth) registerAuth(app, deps.config.server.auth, deps.metrics.authRefused);
  // A repeated parameter would reach the queries as a list and quietly match nothing.
  app.addHook('preHandler', async (request) => {
    for (const [name, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
      if (Array.isArray(value) && !REPEATABLE_PARAMETERS.has(name)) {
        throw new AppError('REQUEST_INVALID', `query parameter ${name} is given ${value.length} times; give it once`, { httpStatus: 400 });
      }
    }
  });
  app.removeContentTypeParser('application/json');
  // Compressed JSON (gzip, deflate) is undone up to the route's body limit; an empty body is
  // no body (an action posted with a JSON content type and nothing to say).
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, async (request: FastifyRequest, body: Buffer) => {
    const limit = request.routeOptions.bodyLimit ?? 1024 * 1024;
    return parseJsonBytes(await decodeContentEncoding(body, request.headers['content-encoding'], limit));
  });
  // /docs: Swagger UI (assets from the package, nothing fetched from elsewhere) and /docs/json.
  // The document is plain data (helpers widen its literals), checked by test/integration/openapi.test.ts.
  await app.register(swagger, { mode: 'static', specification: { document: openApiDocument as unknown as StaticDocumentSpec['document'] } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, { metrics: deps.metrics, isReady: deps.isReady });
  await app.register(ingestRoutes, {
    ingest: deps.ingest,
    clock: deps.clock,
    maxBodyBytes: deps.config.ingest.maxBodyBytes,
    maxDecompressedBytes: deps.config.ingest.maxDecompressedBytes,
    maxLabelsPerSeries: deps.config.ingest.maxLabelsPerSeries,
    maxLabelValueBytes: deps.config.ingest.maxLabelValueBytes,
    maxLabelBytesPerSeries: deps.config.ingest.maxLabelBytesPerSeries,
  });
  await app.register(alertRoutes, { alerts: deps.alerts, incidents: deps.incidents, clock: deps.clock, whenRowsVisible: deps.whenRowsVisible, metrics: deps.metrics });
  await app.register(incidentRoutes, { incidents: deps.incidents, notifications: deps.notifications, clock: deps.clock, whenRowsVisible: deps.whenRowsVisible });
  await app.register(serviceRoutes, { catalog: deps.catalog });
  await app.register(seriesRoutes, { store: deps.store, clock: deps.clock, whenWritesVisible: deps.whenWritesVisible });
  return app;
}
