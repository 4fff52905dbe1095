import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AlertService } from '../../incidents/alert.service.js';
import type { AlertState } from '../../incidents/alert-state.js';
import type { IncidentService } from '../../incidents/incident.service.js';
import {
  normalizeAlertmanagerV2Alerts,
  normalizeAlertmanagerWebhook,
  normalizePagerDutyEvent,
  normalizePlainAlertList,
  normalizeVigilAlerts,
  KnownLabelSets,
  type NormalizeResult,
} from '../../incidents/normalize-alerts.js';
import type { AlertSource } from '../../incidents/alert.js';
import { isAwaitingBodyCredential } from '../auth.js';
import type { AlertRequestOutcome, Metrics } from '../../observability/metrics.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { AlertColumns, StoredAlertEvent } from '../../storage/alerts.queries.js';
import { READ_TABLES } from '../../storage/read-tables.js';
import { parsePaging } from '../paging.js';
import { decodeContentEncoding, mediaType, parseJsonBytes } from '../request-body.js';

export interface AlertRouteDeps {
  alerts: AlertService;
  incidents: Pick<IncidentService, 'acknowledgeAlerts'>;
  clock: Clock;
  /** Resolves once every acknowledged row of these tables is queryable: listings read ClickHouse, writes are journaled first. */
  whenRowsVisible: (tables: readonly string[]) => Promise<void>;
  metrics: Pick<Metrics, 'alertRequest' | 'alertEvents' | 'alertsTruncated'>;
}

/** An intake request's outcome, by the status it was answered with (the error handler chose it). */
function outcomeOf(statusCode: number): AlertRequestOutcome {
  if (statusCode < 300) return 'stored';
  if (statusCode === 401 || statusCode === 403) return 'unauthorized';
  if (statusCode === 413) return 'too_large';
  if (statusCode === 415) return 'unsupported';
  if (statusCode === 503) return 'unavailable';
  return statusCode < 500 ? 'invalid' : 'failed';
}

/** More alerts than any Alertmanager holds: a larger `truncatedAlerts` is not believed. */
const MAX_TRUNCATED_ALERTS = 10_000_000;

/** Alert bodies can list thousands of alerts (an Alertmanager group in a storm). */
const ALERT_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The fields alerts and alert events show alike. */
function alertColumnsJson(alert: AlertColumns) {
  return {
    fingerprint: alert.fingerprint,
    source: alert.source,
    status: alert.status,
    severity: alert.severity,
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: iso(alert.startsAtMs),
    endsAt: iso(alert.endsAtMs),
    firstSeenAt: iso(alert.firstSeenAtMs),
  };
}

/** The public Alert shape of GET /api/v1/alerts. */
export function toAlertJson(state: AlertState) {
  return {
    ...alertColumnsJson(state),
    lastSeenAt: iso(state.lastSeenAtMs),
    resolvedAt: iso(state.resolvedAtMs),
    eventCount: state.eventCount,
    ...(state.generatorUrl ? { generatorUrl: state.generatorUrl } : {}),
  };
}

/** Alert intake from real senders (api.md) and the alert listing. */
export async function alertRoutes(app: FastifyInstance, deps: AlertRouteDeps): Promise<void> {
  const intake = async (normalized: NormalizeResult) => {
    if (!normalized.ok) throw new AppError('ALERT_PAYLOAD_INVALID', normalized.detail, { httpStatus: 400 });
    const result = await deps.alerts.receive(normalized.alerts);
    // A PagerDuty acknowledge: stored as the alert's event above, and it acknowledges the
    // incident of an alert PagerDuty events raised. Not another sender's: its key is a label
    // hash anyone can compute, and acknowledging is a person's act (scope operate), not a sender's.
    const acknowledged = normalized.alerts.filter((a) => a.acknowledged === true && deps.alerts.get(a.fingerprint)?.source === 'pagerduty');
    if (acknowledged.length > 0) await deps.incidents.acknowledgeAlerts(acknowledged.map((a) => a.fingerprint), acknowledged[0]!.origin || acknowledged[0]!.source);
    // Once answered 2xx: a sender retries a failed request, whose events would count twice.
    countEvents(normalized.alerts);
    return result;
  };
  /** Stored events by sender and status: one body comes from one sender. */
  const countEvents = (events: readonly { source: AlertSource; status: string }[]) => {
    let firing = 0;
    for (const event of events) if (event.status === 'firing') firing++;
    const source = events[0]?.source;
    if (source === undefined) return;
    if (firing > 0) deps.metrics.alertEvents(source, 'firing', firing);
    if (events.length > firing) deps.metrics.alertEvents(source, 'resolved', events.length - firing);
  };
  const options = (sender: AlertSource) => ({
    bodyLimit: ALERT_BODY_LIMIT_BYTES,
    // Every request counts by sender, whatever answered it (body parser, validation, storage).
    // A body refused before its routing_key was read (PagerDuty without the header) is an unverified sender's.
    onResponse: async (request: FastifyRequest, reply: FastifyReply) =>
      deps.metrics.alertRequest(sender, isAwaitingBodyCredential(request) && reply.statusCode < 500 ? 'unauthorized' : outcomeOf(reply.statusCode)),
    // Every sender posts JSON; a text/plain body would otherwise reach the normaliser as a string.
    preValidation: async (request: FastifyRequest) => {
      const type = mediaType(request.headers['content-type']);
      if (type !== 'application/json') {
        throw new AppError('REQUEST_UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type || 'none'} is not accepted by POST ${request.url.split('?')[0]}; send application/json`, { httpStatus: 415 });
      }
    },
  });

  app.post('/api/v1/alerts/alertmanager', options('alertmanager'), async (request) => {
    await intake(normalizeAlertmanagerWebhook(request.body, deps.clock.nowMs()));
    // Past the receiver's max_alerts Alertmanager drops the rest of the group, saying only how many.
    const { truncatedAlerts, groupKey } = request.body as { truncatedAlerts?: unknown; groupKey?: unknown };
    // Bounded: a hostile count must not throw the counter off for good.
    if (typeof truncatedAlerts === 'number' && Number.isInteger(truncatedAlerts) && truncatedAlerts > 0 && truncatedAlerts <= MAX_TRUNCATED_ALERTS) {
      deps.metrics.alertsTruncated(truncatedAlerts);
      request.log.warn({ truncatedAlerts, groupKey }, "Alertmanager left alerts out of this webhook (the receiver's max_alerts): Vigil never sees them");
    }
    return { status: 'success' };
  });

  // Prometheus' alert lists, the busiest sender: the route takes the body's bytes, so that a
  // list in Prometheus' plain form is read without building its JSON (normalizePlainAlertList).
  const knownLabelSets = new KnownLabelSets();
  await app.register(async (prometheus) => {
    prometheus.removeContentTypeParser('application/json');
    prometheus.addContentTypeParser('application/json', { parseAs: 'buffer' }, async (request: FastifyRequest, body: Buffer) =>
      decodeContentEncoding(body, request.headers['content-encoding'], ALERT_BODY_LIMIT_BYTES),
    );
    // Alertmanager's own API answers 200 with an empty body; Prometheus needs only the 2xx.
    prometheus.post('/api/v2/alerts', options('prometheus'), async (request, reply) => {
      const nowMs = deps.clock.nowMs();
      // JSON's content parser gives bytes (another media type is refused in preValidation); a
      // request Fastify reads no body of reads as an empty one.
      const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      await intake(normalizePlainAlertList(bytes, nowMs, knownLabelSets) ?? normalizeAlertmanagerV2Alerts(parseJsonBytes(bytes), nowMs));
      return reply.status(200).send();
    });
  });

  app.post('/api/v1/alerts', options('vigil'), async (request) => {
    const result = await intake(normalizeVigilAlerts(request.body, deps.clock.nowMs()));
    return { status: 'success', alerts: result.alerts };
  });

  // PagerDuty Events API v2 answers 202 with the dedup key.
  app.post('/v2/enqueue', options('pagerduty'), async (request, reply) => {
    const normalized = normalizePagerDutyEvent(request.body, deps.clock.nowMs());
    await intake(normalized);
    const dedupKey = normalized.ok ? (normalized.alerts[0]?.groupKey ?? normalized.alerts[0]?.fingerprint) : undefined;
    return reply.status(202).send({ status: 'success', message: 'Event processed', dedup_key: dedupKey });
  });

  app.get('/api/v1/alerts', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const status = query.status ?? 'firing';
    if (status !== 'firing' && status !== 'resolved' && status !== 'all') {
      throw new AppError('REQUEST_INVALID', `status must be firing, resolved or all, got ${JSON.stringify(status)}`, { httpStatus: 400 });
    }
    const paging = parsePaging(query);
    await deps.whenRowsVisible(READ_TABLES.alertList);
    const page = await deps.alerts.list({ status, ...paging });
    return { alerts: page.alerts.map(toAlertJson), total: page.total };
  });

  // Every event stored for one alert fingerprint, newest first: the evidence behind its state.
  app.get('/api/v1/alerts/:fingerprint/events', async (request) => {
    const { fingerprint } = request.params as { fingerprint: string };
    const paging = parsePaging(request.query as Record<string, string | undefined>);
    await deps.whenRowsVisible(READ_TABLES.alertEvents);
    const page = await deps.alerts.events(fingerprint, paging);
    return { events: page.events.map(toAlertEventJson), total: page.total };
  });
}

/** The shape of GET /api/v1/alerts/:fingerprint/events: one received event as stored. */
function toAlertEventJson(event: StoredAlertEvent) {
  return {
    receivedAt: iso(event.receivedAtMs),
    seq: event.seq,
    ...alertColumnsJson(event),
    ...(event.generatorUrl ? { generatorUrl: event.generatorUrl } : {}),
    ...(event.groupKey ? { groupKey: event.groupKey } : {}),
  };
}
