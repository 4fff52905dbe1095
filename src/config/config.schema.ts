import { Type, type Static } from '@sinclair/typebox';

/** What a notification route can subscribe to (`notifications.routes[].kinds`). */
/** The `route` label of notification attempts whose route is no longer configured; reserved as a route name. */
export const REMOVED_ROUTE = '(removed)';
export const NOTIFICATION_KINDS = ['created', 'acknowledged', 'escalated', 'priority_changed', 'reopened', 'resolved'] as const;

/** `host:port`; the default keeps Vigil on loopback until an operator opens it. */
// Port 0-65535: 99999 would pass a plain five-digit pattern and fail only at listen().
const ListenAddress = Type.String({
  pattern: '^(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})$',
  description: 'host:port, e.g. 127.0.0.1:9470',
});

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        listen: ListenAddress,
        /** Roles split the process for scale (architecture.md); `all` runs everything. */
        // Split roles (ingest, core) are not built yet: a process set to one would still run
        // everything, and migrate. Only `all` is accepted until they are.
        role: Type.Literal('all'),
        /**
         * Bearer tokens with scopes (src/api/auth.ts); absent: no authentication (the default
         * listens on loopback only). Give `token`, or `tokenSha256` to keep the secret out of the file.
         */
        auth: Type.Optional(
          Type.Object(
            {
              tokens: Type.Array(
                Type.Object(
                  {
                    name: Type.String({ minLength: 1, maxLength: 200 }),
                    // Shorter is guessable; `openssl rand -hex 32` gives 64 characters. Visible
                    // ASCII only: what an Authorization header carries as one word.
                    token: Type.Optional(Type.String({ minLength: 16, maxLength: 4096, pattern: '^[\\x21-\\x7e]+$' })),
                    tokenSha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
                    scopes: Type.Array(Type.Union([Type.Literal('write'), Type.Literal('read'), Type.Literal('operate')]), { minItems: 1, uniqueItems: true }),
                  },
                  { additionalProperties: false },
                ),
                { minItems: 1 },
              ),
              /** /metrics needs a token with scope read too (open by default: it names no monitored host). */
              protectMetrics: Type.Optional(Type.Boolean()),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    log: Type.Object(
      { level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))) },
      { additionalProperties: false },
    ),
    storage: Type.Object(
      {
        /** Embedded store (chdb) and write-ahead segments live here. */
        dataDir: Type.String({ minLength: 1 }),
        /** Set to use a ClickHouse server instead of the embedded engine. */
        clickhouseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
        user: Type.String(),
        password: Type.String(),
        database: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
        /** ClickHouse cluster name: migrations emit ON CLUSTER, Replicated* and Distributed tables. Server mode only. */
        cluster: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$' })),
        /** Raw samples are dropped whole days at a time once older than this. */
        retentionDays: Type.Integer({ minimum: 1, maximum: 36500 }),
        /** Rollups (1 m, 1 h) serve long ranges and forecasting, so they live longer. */
        rollupRetentionDays: Type.Integer({ minimum: 1, maximum: 36500 }),
        /**
         * Received alert events (every re-send: a firing alert from Prometheus, one a minute)
         * are dropped once older than this; alert states, counts and incidents are kept.
         */
        alertEventRetentionDays: Type.Integer({ minimum: 1, maximum: 36500 }),
      },
      { additionalProperties: false },
    ),
    ingest: Type.Object(
      {
        /** Largest request body accepted on the wire (compressed). */
        maxBodyBytes: Type.Integer({ minimum: 1024 }),
        /** Largest body after decompression: the OTLP spec recommends 20 MiB as zip-bomb guard. */
        maxDecompressedBytes: Type.Integer({ minimum: 1024, maximum: 4 * 1024 * 1024 * 1024 - 1 }),
        /** Prometheus' receiver refuses samples further ahead than 10 minutes; so do we. */
        maxFutureMs: Type.Integer({ minimum: 0 }),
        maxLabelsPerSeries: Type.Integer({ minimum: 1, maximum: 1000 }),
        maxLabelValueBytes: Type.Integer({ minimum: 16 }),
        /**
         * All of a series' label names and values together, in bytes. Without it, labels at
         * their own limits (64 of 16 KiB) made 1 MiB per series, and a small body whose lines
         * or histograms repeat them over hundreds of series grew to gigabytes (found in review).
         */
        maxLabelBytesPerSeries: Type.Integer({ minimum: 64 }),
      },
      { additionalProperties: false },
    ),
    alerts: Type.Object(
      {
        /** A firing alert sent without endsAt resolves this long after it was last seen (Alertmanager's resolve_timeout). */
        resolveTimeoutMs: Type.Integer({ minimum: 1_000 }),
        /**
         * The same for alerts from senders that notify changes instead of re-sending (the
         * Alertmanager webhook: firing alerts come with a zero endsAt, and again only after its
         * repeat_interval; PagerDuty Events). 0: they stay firing until resolved.
         */
        notificationResolveTimeoutMs: Type.Integer({ minimum: 0 }),
        /** Resolved alerts stay in memory this long, so a late repeat of a resolve is recognised. */
        keepResolvedMs: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    catalog: Type.Object(
      {
        /** YAML service catalog, reloaded when it changes; without it the catalog comes from PUT /api/v1/services. */
        file: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    incidents: Type.Object(
      {
        grouping: Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            /** Alerts with equal values of these labels share an incident (Alertmanager's group_by). */
            groupBy: Type.Array(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' })),
            /** Firing alerts count towards minFiringAlerts for this long. */
            windowMs: Type.Integer({ minimum: 0 }),
            /** An incident opens once this many alerts of a group fire within the window. */
            minFiringAlerts: Type.Integer({ minimum: 1 }),
          },
          { additionalProperties: false },
        ),
        /** An incident whose alerts all resolved auto-resolves after this hold; 0 resolves at once. */
        autoResolveHoldMs: Type.Integer({ minimum: 0 }),
        /**
         * A group firing again within this long after its last incident resolved reopens that
         * incident (timeline: reopened by vigil) instead of opening a new one linked to it.
         * 0: always a new incident. A closed incident is never reopened.
         */
        reopenWindowMs: Type.Integer({ minimum: 0 }),
        /** Vigil closes a resolved incident this long after it resolved (ServiceNow's default is 7 days); 0: never. */
        autoCloseAfterMs: Type.Integer({ minimum: 0 }),
        /** Escalation policy (src/incidents/escalation.ts): levels reached in order, each telling its routes. */
        escalation: Type.Object(
          {
            levels: Type.Array(
              Type.Object(
                {
                  /** Reached when not acknowledged this long after creation (wall clock). */
                  afterMs: Type.Optional(Type.Integer({ minimum: 0 })),
                  /** Reached when a response or resolution target is breached while open. */
                  onBreach: Type.Optional(Type.Boolean()),
                  /** Names of notification routes told (kind `escalated`) when the level is reached. */
                  routes: Type.Array(Type.String({ minLength: 1 })),
                },
                { additionalProperties: false },
              ),
              // More levels than people to wake is a typo.
              { maxItems: 20 },
            ),
            /**
             * Tell the highest `afterMs` level again every `intervalMs` while nobody takes the
             * incident, at most `times` times per opening (PagerDuty's repeat). Absent: never.
             */
            repeat: Type.Optional(
              Type.Object(
                {
                  // Under a minute is a page storm, not a reminder.
                  intervalMs: Type.Integer({ minimum: 60_000 }),
                  times: Type.Integer({ minimum: 1, maximum: 100 }),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    notifications: Type.Object(
      {
        routes: Type.Array(
          Type.Object(
            {
              name: Type.String({ minLength: 1 }),
              url: Type.String({ pattern: '^https?://' }),
              format: Type.Union([Type.Literal('json'), Type.Literal('slack')]),
              kinds: Type.Array(Type.Union(NOTIFICATION_KINDS.map((k) => Type.Literal(k)))),
            },
            { additionalProperties: false },
          ),
        ),
        /**
         * Where people open an incident, `{id}` standing for its id (Vigil's API, a Grafana
         * dashboard with the id as a variable, a ticket tool): given, notifications link to it.
         */
        incidentUrl: Type.Optional(Type.String()),
        /** Attempts per delivery before it is logged as failed. */
        maxAttempts: Type.Integer({ minimum: 1, maximum: 100 }),
        /** First retry delay; doubles each attempt, up to 5 minutes. */
        retryBaseDelayMs: Type.Integer({ minimum: 1 }),
        // Timers cannot wait longer than 2^31 - 1 ms.
        timeoutMs: Type.Integer({ minimum: 100, maximum: 2_147_483_647 }),
      },
      { additionalProperties: false },
    ),
    writer: Type.Object(
      {
        /** An insert into ClickHouse starts once this many acknowledged rows wait (it likes 10k-1M rows per insert). */
        maxBatchRows: Type.Integer({ minimum: 1 }),
        /** ...or once the oldest acknowledged row has waited this long: how stale reads outside the API may be. */
        flushIntervalMs: Type.Integer({ minimum: 1, maximum: 60_000 }),
        /** Past this many rows not yet inserted, ingest sheds load with 503 + Retry-After. Bounds memory and disk. */
        maxQueuedRows: Type.Integer({ minimum: 1 }),
        /** fsync segments and ClickHouse parts before acknowledging: off only if you accept loss on power failure. */
        fsync: Type.Boolean(),
        /** An API read waits this long at most for acknowledged rows to reach ClickHouse, then answers 503 + Retry-After. */
        maxReadWaitMs: Type.Integer({ minimum: 1, maximum: 600_000 }),
        /** Alert, incident and notification rows go from their journal into ClickHouse after waiting this long... */
        journalInsertDelayMs: Type.Integer({ minimum: 1, maximum: 60_000 }),
        /** ...or once this many journal bytes of a table wait (at most 32 MiB, the size at which a journal file is sealed). */
        journalInsertBytes: Type.Integer({ minimum: 1024, maximum: 32 * 1024 * 1024 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

export const defaultConfig: Config = {
  server: { listen: '127.0.0.1:9470', role: 'all' },
  log: { level: 'info' },
  storage: {
    dataDir: './data',
    user: 'default',
    password: '',
    database: 'vigil',
    retentionDays: 30,
    rollupRetentionDays: 400,
    alertEventRetentionDays: 400,
  },
  ingest: {
    maxBodyBytes: 16 * 1024 * 1024,
    maxDecompressedBytes: 64 * 1024 * 1024,
    maxFutureMs: 10 * 60 * 1000,
    maxLabelsPerSeries: 64,
    maxLabelValueBytes: 16 * 1024,
    maxLabelBytesPerSeries: 32 * 1024,
  },
  alerts: {
    resolveTimeoutMs: 5 * 60 * 1000,
    notificationResolveTimeoutMs: 0,
    keepResolvedMs: 60 * 60 * 1000,
  },
  catalog: {},
  incidents: {
    grouping: { name: 'by-alertname', groupBy: ['alertname'], windowMs: 5 * 60_000, minFiringAlerts: 1 },
    autoResolveHoldMs: 5 * 60_000,
    reopenWindowMs: 0,
    autoCloseAfterMs: 7 * 86_400_000,
    // One level reached on an SLA breach, told to the routes that subscribe to `escalated`.
    escalation: { levels: [{ onBreach: true, routes: [] }] },
  },
  notifications: { routes: [], maxAttempts: 8, retryBaseDelayMs: 1_000, timeoutMs: 10_000 },
  writer: {
    maxBatchRows: 500_000,
    flushIntervalMs: 500,
    maxQueuedRows: 2_000_000,
    fsync: true,
    maxReadWaitMs: 10_000,
    journalInsertDelayMs: 1_000,
    journalInsertBytes: 16 * 1024 * 1024,
  },
};
