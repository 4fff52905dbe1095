/**
 * The OpenAPI 3 description of Vigil's HTTP API, served at /docs (Swagger UI) and
 * /docs/json. Written by hand from ../shared/design/api.md and the routes, because most
 * routes parse their bodies themselves (protobuf, snappy, several alert formats) rather than
 * through Fastify schemas. test/integration/openapi.test.ts fails when a route is served
 * but not described here.
 */

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, ...json(ref('Error')) });
/** Prometheus' HTTP API error body, for the routes Prometheus clients call. */
const prometheusError = (description: string) => ({
  description,
  ...json({ type: 'object', properties: { status: { type: 'string', enum: ['error'] }, errorType: { type: 'string', example: 'bad_data' }, error: { type: 'string' } } }),
});
const listOf = (key: string, item: string) => ({
  type: 'object',
  required: [key, 'total'],
  properties: { [key]: { type: 'array', items: ref(item) }, total: { type: 'integer', description: 'all matches, beside this page' } },
});
const paging = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100_000, default: 500 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
/** The parameters of matchParams form-encoded in a POST body (Grafana and VictoriaMetrics clients send them so). */
const matchForm = {
  required: true,
  content: {
    'application/x-www-form-urlencoded': {
      schema: { type: 'object', properties: { 'match[]': { type: 'array', items: { type: 'string' } }, start: { type: 'string' }, end: { type: 'string' }, limit: { type: 'string' } } },
    },
  },
};

const matchParams = [
  { name: 'match[]', in: 'query', required: true, schema: { type: 'array', items: { type: 'string' } }, description: 'series selector, e.g. up{job="node"}; `=`, `!=`, `=~`, `!~`' },
  { name: 'start', in: 'query', schema: { type: 'string' }, description: 'RFC 3339 or Unix seconds' },
  { name: 'end', in: 'query', schema: { type: 'string' }, description: 'RFC 3339 or Unix seconds' },
];
/** Ingest answers: 2xx once durable; 4xx not to be retried; 503 + Retry-After to retry. */
const ingestResponses = {
  '400': error('malformed body: rejected whole, nothing stored'),
  '413': error('body or decompressed body too large'),
  '415': error('unsupported content type or encoding'),
  '503': error('overloaded or storage failing: retry after Retry-After seconds'),
};
/** The properties an Alert and an AlertEvent share. */
const alertProperties = {
  fingerprint: { type: 'string', description: "Alertmanager's fingerprint or the sender's key" },
  source: { type: 'string' },
  status: { type: 'string', enum: ['firing', 'resolved'] },
  severity: { type: 'string', enum: ['critical', 'major', 'minor', 'warning', 'info'] },
  labels: { type: 'object', additionalProperties: { type: 'string' } },
  annotations: { type: 'object', additionalProperties: { type: 'string' } },
  startsAt: { type: 'string', format: 'date-time' },
  endsAt: { type: 'string', format: 'date-time', nullable: true },
};
const alertIntake = (summary: string, example: string) => ({
  post: {
    tags: ['alerts'],
    summary,
    requestBody: { required: true, content: { 'application/json': { schema: { description: example } } } },
    responses: {
      '200': { description: 'stored (every event) and correlated', ...json({ type: 'object', properties: { alerts: { type: 'integer' }, new: { type: 'integer' } } }) },
      '400': error('invalid payload: the detail names the field'),
      '503': error('storage overloaded or failing: retry'),
    },
  },
});
const actionResponses = {
  '200': { description: 'the updated incident', ...json(ref('Incident')) },
  '400': error('invalid body'),
  '404': error('no such incident'),
  '409': error('illegal transition: the detail lists the allowed actions'),
};

export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'Vigil',
    version: '0.1.0',
    description:
      'Monitoring-driven IT service management: metrics and alerts in, incidents with priorities, SLA timers and notifications out. Errors are `{ "error": CODE, "detail": text }`; load is shed with 503 + Retry-After. With `server.auth` configured, every route but /healthz, /readyz, /metrics and /docs needs `Authorization: Bearer <token>` (or `Token`, or Basic with the token as password; PagerDuty events may give it as `routing_key`) of scope `write` (ingest and alert intake), `read` (reads) or `operate` (incident actions, catalog changes): 401 without a known token, 403 without the scope.',
  },
  tags: [{ name: 'ingest' }, { name: 'read' }, { name: 'alerts' }, { name: 'incidents' }, { name: 'notifications' }, { name: 'catalog' }, { name: 'self' }],
  paths: {
    '/api/v1/write': {
      post: {
        tags: ['ingest'],
        summary: 'Prometheus remote_write 1.0 (snappy-compressed protobuf WriteRequest)',
        requestBody: { required: true, content: { 'application/x-protobuf': { schema: { type: 'string', format: 'binary' } } } },
        responses: { '204': { description: 'every sample stored durably' }, ...ingestResponses },
      },
    },
    '/v1/metrics': {
      post: {
        tags: ['ingest'],
        summary: 'OTLP/HTTP metrics, protobuf or JSON (gauge, sum, histogram; resource attributes become labels)',
        requestBody: { required: true, content: { 'application/x-protobuf': { schema: { type: 'string', format: 'binary' } }, 'application/json': { schema: { type: 'object' } } } },
        responses: { '200': { description: 'stored (OTLP ExportMetricsServiceResponse)' }, ...ingestResponses },
      },
    },
    '/api/v2/write': {
      post: {
        tags: ['ingest'],
        summary: 'InfluxDB line protocol (Telegraf, including its SNMP input)',
        parameters: [{ name: 'precision', in: 'query', schema: { type: 'string', enum: ['ns', 'us', 'ms', 's'] } }],
        requestBody: { required: true, content: { 'text/plain': { schema: { type: 'string' } } } },
        responses: { '204': { description: 'stored' }, ...ingestResponses },
      },
    },
    '/write': {
      post: {
        tags: ['ingest'],
        summary: 'InfluxDB 1.x line protocol endpoint',
        parameters: [{ name: 'precision', in: 'query', schema: { type: 'string', enum: ['n', 'ns', 'u', 'us', 'ms', 's', 'm', 'h'] } }],
        requestBody: { required: true, content: { 'text/plain': { schema: { type: 'string' } } } },
        responses: { '204': { description: 'stored' }, ...ingestResponses },
      },
    },
    '/api/v1/series': {
      get: {
        tags: ['read'],
        summary: 'Series matching selectors (Prometheus-compatible)',
        parameters: matchParams,
        responses: {
          '200': { description: 'the series', ...json({ type: 'object', properties: { status: { type: 'string', enum: ['success'] }, data: { type: 'array', items: { type: 'object', additionalProperties: { type: 'string' } } } } }) },
          '400': prometheusError('bad selector or time'),
        },
      },
      post: {
        tags: ['read'],
        summary: 'The same, with the parameters form-encoded in the body (as Grafana sends them)',
        requestBody: matchForm,
        responses: {
          '200': { description: 'the series', ...json({ type: 'object', properties: { status: { type: 'string', enum: ['success'] }, data: { type: 'array', items: { type: 'object', additionalProperties: { type: 'string' } } } } }) },
          '400': prometheusError('bad selector or time'),
        },
      },
    },
    '/api/v1/export': {
      get: {
        tags: ['read'],
        summary: "Stored samples as JSON lines, one series a line (VictoriaMetrics' export shape)",
        parameters: matchParams,
        responses: {
          '200': {
            description: '`{"metric": {...}, "values": [...], "timestamps": [ms...]}` per line',
            content: { 'application/stream+json': { schema: { type: 'string' } } },
          },
          '400': error('bad selector or time'),
        },
      },
      post: {
        tags: ['read'],
        summary: 'The same, with the parameters form-encoded in the body (as VictoriaMetrics takes them)',
        requestBody: matchForm,
        responses: {
          '200': {
            description: '`{"metric": {...}, "values": [...], "timestamps": [ms...]}` per line',
            content: { 'application/stream+json': { schema: { type: 'string' } } },
          },
          '400': error('bad selector or time'),
        },
      },
    },
    '/api/v2/alerts': alertIntake('Alertmanager v2 API alert list, as Prometheus sends it', '[PostableAlert]: labels, annotations, startsAt, endsAt, generatorURL'),
    '/api/v1/alerts/alertmanager': alertIntake('Alertmanager webhook (version 4)', 'webhook body: receiver, status, alerts[], groupLabels, ...'),
    '/api/v1/alerts': {
      ...alertIntake("Vigil's own alert JSON", 'an alert or a list: { labels, annotations, status, severity, startsAt, endsAt?, source?, fingerprint? }'),
      get: {
        tags: ['alerts'],
        summary: 'Alerts, newest first',
        parameters: [{ name: 'status', in: 'query', schema: { type: 'string', enum: ['firing', 'resolved', 'all'], default: 'firing' } }, ...paging],
        responses: { '200': { description: 'a page of alerts', ...json(listOf('alerts', 'Alert')) }, '400': error('bad parameter') },
      },
    },
    '/api/v1/alerts/{fingerprint}/events': {
      get: {
        tags: ['alerts'],
        summary: 'Every event stored for one alert fingerprint, newest first',
        parameters: [{ name: 'fingerprint', in: 'path', required: true, schema: { type: 'string' } }, ...paging],
        responses: { '200': { description: 'a page of events (empty for an unknown fingerprint)', ...json(listOf('events', 'AlertEvent')) }, '400': error('bad parameter') },
      },
    },
    '/v2/enqueue': alertIntake('PagerDuty Events API v2 (an Alertmanager group in custom_details is unpacked)', '{ routing_key, event_action, dedup_key?, payload }'),
    '/api/v1/incidents': {
      get: {
        tags: ['incidents'],
        summary: 'Incidents, newest first',
        parameters: [
          { name: 'status', in: 'query', schema: { type: 'string', enum: ['open', 'resolved', 'closed', 'all'], default: 'open' } },
          { name: 'service', in: 'query', schema: { type: 'string' } },
          { name: 'priority', in: 'query', schema: { type: 'string', enum: ['P1', 'P2', 'P3', 'P4'] } },
          ...paging,
        ],
        responses: { '200': { description: 'a page of incidents', ...json(listOf('incidents', 'Incident')) }, '400': error('bad parameter') },
      },
    },
    '/api/v1/incidents/{id}': {
      get: {
        tags: ['incidents'],
        summary: 'One incident with its alerts and timeline',
        parameters: [idParam],
        responses: {
          '200': {
            description: 'the incident',
            ...json({
              allOf: [
                ref('Incident'),
                {
                  type: 'object',
                  properties: {
                    alerts: { type: 'array', items: ref('Alert') },
                    timeline: { type: 'array', items: { type: 'object', properties: { at: { type: 'string', format: 'date-time' }, actor: { type: 'string' }, kind: { type: 'string' } } } },
                  },
                },
              ],
            }),
          },
          '404': error('no such incident'),
        },
      },
    },
    '/api/v1/incidents/{id}/{action}': {
      post: {
        tags: ['incidents'],
        summary: 'Lifecycle and other actions: acknowledge, start, resolve, close, reopen, assign, comments, pause, resume',
        parameters: [
          idParam,
          { name: 'action', in: 'path', required: true, schema: { type: 'string', enum: ['acknowledge', 'start', 'resolve', 'close', 'reopen', 'assign', 'comments', 'pause', 'resume'] } },
        ],
        requestBody: {
          required: false,
          ...json({
            type: 'object',
            description: 'assign: { assignee, actor? } (assignee null: unassign); comments: { text, author? or actor? }; pause/resume: { actor?, reason? }; transitions: { actor?, note? }',
            properties: { actor: { type: 'string' }, note: { type: 'string' }, reason: { type: 'string' }, assignee: { type: 'string', nullable: true }, text: { type: 'string' }, author: { type: 'string' } },
          }),
        },
        responses: actionResponses,
      },
    },
    '/api/v1/reports/incidents': {
      get: {
        tags: ['incidents'],
        summary: 'MTTA and MTTR per service and priority, with percentiles, and SLA breaches by target (definitions in the README)',
        parameters: [
          { name: 'from', in: 'query', schema: { type: 'string' }, description: 'default: 30 days before `to`' },
          { name: 'to', in: 'query', schema: { type: 'string' }, description: 'default: now' },
        ],
        responses: { '200': { description: 'statistics', ...json({ type: 'object' }) }, '400': error('bad time range') },
      },
    },
    '/api/v1/notifications': {
      get: {
        tags: ['notifications'],
        summary: 'Delivery log: every attempt of every outbound webhook',
        parameters: [{ name: 'incident', in: 'query', schema: { type: 'string' } }, ...paging],
        responses: { '200': { description: 'a page of attempts', ...json({ type: 'object', properties: { attempts: { type: 'array', items: { type: 'object' } }, total: { type: 'integer' } } }) } },
      },
    },
    '/api/v1/notifications/deliveries': {
      get: {
        tags: ['notifications'],
        summary: 'The durable delivery queue: each delivery with its current state',
        parameters: [
          { name: 'state', in: 'query', schema: { type: 'string', enum: ['pending', 'delivered', 'failed'] } },
          { name: 'incident', in: 'query', schema: { type: 'string' } },
          ...paging,
        ],
        responses: { '200': { description: 'a page of deliveries', ...json({ type: 'object', properties: { deliveries: { type: 'array', items: { type: 'object' } }, total: { type: 'integer' } } }) }, '400': error('bad parameter') },
      },
    },
    '/api/v1/services': {
      get: { tags: ['catalog'], summary: 'The service catalog: services, configuration items, dependencies, SLAs', responses: { '200': { description: 'the catalog', ...json({ type: 'object' }) } } },
      put: {
        tags: ['catalog'],
        summary: 'Replace the catalog (validated whole; on any problem the previous one stays in force)',
        parameters: [{ name: 'X-Vigil-Author', in: 'header', schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } }, 'application/yaml': { schema: { type: 'string', description: 'the catalog as in its YAML file' } } } },
        responses: {
          '200': { description: 'the catalog now in force', ...json({ type: 'object' }) },
          '400': error('invalid catalog: every problem named'),
          '415': error('neither JSON nor YAML'),
        },
      },
    },
    '/api/v1/services/{id}': {
      get: {
        tags: ['catalog'],
        summary: 'One service with its transitive dependencies',
        parameters: [idParam],
        responses: { '200': { description: 'the service', ...json({ type: 'object' }) }, '404': error('no such service') },
      },
    },
    '/metrics': { get: { tags: ['self'], summary: 'Prometheus metrics of Vigil itself', responses: { '200': { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/healthz': { get: { tags: ['self'], summary: 'Liveness', responses: { '200': { description: 'alive' } } } },
    '/readyz': { get: { tags: ['self'], summary: 'Readiness: storage answers', responses: { '200': { description: 'ready' }, '503': error('not ready') } } },
  },
  components: {
    schemas: {
      Error: { type: 'object', required: ['error', 'detail'], properties: { error: { type: 'string', description: 'stable code' }, detail: { type: 'string', description: 'what is wrong' } } },
      Alert: {
        type: 'object',
        properties: {
          ...alertProperties,
          firstSeenAt: { type: 'string', format: 'date-time' },
          lastSeenAt: { type: 'string', format: 'date-time' },
          resolvedAt: { type: 'string', format: 'date-time', nullable: true },
          eventCount: { type: 'integer' },
          generatorUrl: { type: 'string' },
        },
      },
      AlertEvent: {
        type: 'object',
        properties: {
          receivedAt: { type: 'string', format: 'date-time' },
          seq: { type: 'integer', description: "the event's number among its alert's events (from 1; 0 for events stored before Vigil numbered them)" },
          ...alertProperties,
          firstSeenAt: { type: 'string', format: 'date-time', description: 'when the alert it belongs to was first seen' },
          generatorUrl: { type: 'string' },
          groupKey: { type: 'string' },
        },
      },
      Incident: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'string', enum: ['new', 'acknowledged', 'in_progress', 'resolved', 'closed', 'reopened'] },
          priority: { type: 'string', enum: ['P1', 'P2', 'P3', 'P4'] },
          severity: { type: 'string', enum: ['critical', 'major', 'minor', 'warning', 'info'] },
          services: { type: 'array', items: { type: 'string' } },
          cis: { type: 'array', items: { type: 'string' } },
          alertCount: { type: 'integer' },
          createdAt: { type: 'string', format: 'date-time' },
          acknowledgedAt: { type: 'string', format: 'date-time', nullable: true },
          resolvedAt: { type: 'string', format: 'date-time', nullable: true },
          closedAt: { type: 'string', format: 'date-time', nullable: true },
          reopenedAt: { type: 'string', format: 'date-time', nullable: true, description: 'when it was last reopened; escalation starts over from there' },
          responseDueAt: { type: 'string', format: 'date-time', nullable: true },
          resolutionDueAt: { type: 'string', format: 'date-time', nullable: true },
          slaBreached: { type: 'boolean', description: 'a response or resolution target was breached' },
          responseBreached: { type: 'boolean', description: 'acknowledged after responseDueAt, or not acknowledged past it' },
          resolutionBreached: { type: 'boolean', description: 'resolved after resolutionDueAt, or still open past it' },
          escalationLevel: { type: 'integer', description: '0 when not escalated' },
          paused: { type: 'boolean', description: 'SLA clocks paused (waiting on a third party)' },
          assignee: { type: 'string' },
          relatedIncidentId: { type: 'string', description: 'the earlier incident of the same group, for a recurrence' },
        },
      },
    },
  },
};
