import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config/index.js';
import { createAlertService, type AlertService } from './incidents/alert.service.js';
import { createCatalogService } from './catalog/catalog.service.js';
import { createIncidentService } from './incidents/incident.service.js';
import { isOpen } from './incidents/incident-lifecycle.js';
import { createNotificationService, type NotificationRoute } from './incidents/notification.service.js';
import { createIngestService, createSeriesRegistry } from './ingest/index.js';
import { createLogger, createMetrics, type Logger } from './observability/index.js';
import { systemClock, type Clock } from './shared/clock.js';
import { migrate, schemaVersion } from './storage/migrate.js';
import { createSampleWriter, type SampleWriter } from './storage/sample-writer.js';
import { createRowBatcher, type RowBatcher } from './storage/row-batcher.js';
import { createStore, type Store } from './storage/store.js';
import type { DdlContext } from './storage/ddl.js';

export interface OpenStorage {
  store: Store;
  writer: SampleWriter;
  batcher: RowBatcher;
  /** The schema version found before migrating (0: a new store). */
  schemaBefore: number;
}

/**
 * The store migrated, with the write-ahead writer and the row journal, and what a previous run
 * left in them inserted. Those files were written for the schema that run had: they are
 * replayed before newer migrations change it (012 counts the stored alert events into a view;
 * a journal file replayed after it had its events counted twice, once by the count and once
 * by the view). A store never migrated is migrated first: it has no tables to replay into.
 * For `serve` only: `vigil migrate` must not take a running instance's live files.
 */
export async function openStorage(config: Readonly<Config>, logger: Logger, metrics: ReturnType<typeof createMetrics>): Promise<OpenStorage> {
  const store: Store = createStore(config.storage);
  const schemaBefore = await schemaVersion(store);
  const migrated = schemaBefore > 0;
  if (!migrated) await migrate(store, ddlContextOf(config), logger);
  const writer = createSampleWriter({
    store,
    walDir: join(config.storage.dataDir, 'wal'),
    maxBatchRows: config.writer.maxBatchRows,
    flushIntervalMs: config.writer.flushIntervalMs,
    maxQueuedRows: config.writer.maxQueuedRows,
    fsync: config.writer.fsync,
    maxReadWaitMs: config.writer.maxReadWaitMs,
    logger,
    metrics: metrics.writer,
  });
  const replayed = await writer.replay();
  if (replayed.segments > 0) logger.info(replayed, 'write-ahead segments replayed');
  const batcher = createRowBatcher({
    store,
    journalDir: join(config.storage.dataDir, 'journal'),
    fsync: config.writer.fsync,
    maxReadWaitMs: config.writer.maxReadWaitMs,
    maxDelayMs: config.writer.journalInsertDelayMs,
    dueBytes: config.writer.journalInsertBytes,
    logger,
    metrics: metrics.journal,
  });
  // Before anything rebuilds its state from the alert and incident tables.
  const replayedRows = await batcher.replay();
  if (replayedRows.files > 0) logger.info(replayedRows, 'journal files replayed');
  if (migrated) await migrate(store, ddlContextOf(config), logger);
  return { store, writer, batcher, schemaBefore };
}

export interface RunningVigil {
  app: FastifyInstance;
  /** Actual address (the port may have been 0). */
  address: string;
  close(): Promise<void>;
}

export function ddlContextOf(config: Readonly<Config>): DdlContext {
  return {
    cluster: config.storage.cluster,
    retentionDays: config.storage.retentionDays,
    rollupRetentionDays: config.storage.rollupRetentionDays,
    alertEventRetentionDays: config.storage.alertEventRetentionDays,
    fsync: config.writer.fsync,
  };
}

/**
 * Starts Vigil: storage (openStorage: replay of unfinished write-ahead segments and journal
 * files, and migrations), then the services (which read what was replayed) and the HTTP
 * listener. `close()` stops in reverse order; the writer and the batcher flush before the
 * store closes.
 */
export async function startVigil(config: Readonly<Config>, options: { logger?: Logger; clock?: Clock } = {}): Promise<RunningVigil> {
  const logger = options.logger ?? createLogger(config.log.level);
  const clock = options.clock ?? systemClock;
  const metrics = createMetrics();
  const { store, writer, batcher } = await openStorage(config, logger, metrics);
  const ingest = createIngestService({ writer, registry: createSeriesRegistry(), limits: config.ingest, keptDays: Math.max(config.storage.retentionDays, config.storage.rollupRetentionDays), clock, metrics });
  const catalog = createCatalogService({ file: config.catalog.file, store, clock, logger, routeNames: config.notifications.routes.map((r) => r.name) });
  await catalog.start();
  // The two halves of the core know each other: alerts report changes, incidents read alert state.
  let alertLookup: AlertService['get'] = () => undefined;
  const notifications = createNotificationService({
    routes: config.notifications.routes as NotificationRoute[],
    store,
    batcher,
    clock,
    logger,
    ...(config.notifications.incidentUrl !== undefined ? { incidentUrl: config.notifications.incidentUrl } : {}),
    maxAttempts: config.notifications.maxAttempts,
    retryBaseDelayMs: config.notifications.retryBaseDelayMs,
    timeoutMs: config.notifications.timeoutMs,
    catalog: () => catalog.index(),
    metrics: metrics.notifications,
  });
  const incidents = createIncidentService({
    store,
    batcher,
    clock,
    logger,
    notifier: notifications,
    escalationLevels: config.incidents.escalation.levels,
    ...(config.incidents.escalation.repeat ? { escalationRepeat: config.incidents.escalation.repeat } : {}),
    catalog: () => catalog.index(),
    rule: config.incidents.grouping,
    autoResolveHoldMs: config.incidents.autoResolveHoldMs,
    reopenWindowMs: config.incidents.reopenWindowMs,
    autoCloseAfterMs: config.incidents.autoCloseAfterMs,
    alertState: (fingerprint) => alertLookup(fingerprint),
    metrics: metrics.incidents,
  });
  const alerts = createAlertService({
    store,
    batcher,
    clock,
    logger,
    resolveTimeoutMs: config.alerts.resolveTimeoutMs,
    notificationResolveTimeoutMs: config.alerts.notificationResolveTimeoutMs,
    keepResolvedMs: config.alerts.keepResolvedMs,
    onAlertsChanged: (states) => incidents.onAlertsChanged(states),
  });
  alertLookup = alerts.get;
  // Before the core runs: deliveries an earlier run left pending go out first.
  await notifications.start();
  await alerts.start();
  await incidents.start();
  // A crash between storing an alert and storing its incident leaves a firing alert in no
  // incident: correlate the firing alerts again.
  await incidents.recorrelate(alerts.active().filter((a) => a.status === 'firing'));
  alerts.startLeaseExpiry();
  metrics.readCoreState({
    alertsByStatus() {
      const counts: Record<string, number> = { firing: 0, resolved: 0 };
      for (const alert of alerts.active()) counts[alert.status] = (counts[alert.status] ?? 0) + 1;
      return counts;
    },
    *incidents() {
      for (const incident of incidents.held()) {
        if (incident.status === 'closed') continue;
        yield { status: incident.status, priority: incident.priority, openInBreach: incident.slaBreached && isOpen(incident.status) };
      }
    },
    pendingNotifications: () => notifications.pending,
  });
  let ready = true;
  const app = await buildApp({
    config,
    logger,
    metrics,
    clock,
    store,
    ingest,
    alerts,
    incidents,
    notifications,
    catalog,
    whenWritesVisible: () => writer.whenInserted(),
    whenRowsVisible: (tables) => batcher.whenInserted(tables),
    isReady: async () => ready && (await store.query('readiness', 'SELECT 1 AS ok')).length === 1,
  });
  const [host, port] = splitListen(config.server.listen);
  const address = await app.listen({ host, port });
  logger.info({ address, storage: store.mode }, 'vigil listening');
  if (!config.server.auth && !isLoopback(host)) {
    logger.warn({ listen: config.server.listen }, 'listening beyond loopback without server.auth: anyone who reaches this port can read incidents, act on them and change the catalog');
  }
  return {
    app,
    address,
    async close() {
      ready = false;
      await app.close();
      await incidents.close();
      await notifications.close();
      catalog.close();
      await alerts.close();
      await batcher.close();
      await writer.close();
      await store.close();
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function splitListen(listen: string): [string, number] {
  const at = listen.lastIndexOf(':');
  return [listen.slice(0, at).replace(/^\[|\]$/g, ''), Number(listen.slice(at + 1))];
}
