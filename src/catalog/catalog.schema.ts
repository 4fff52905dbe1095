import { Type, type Static } from '@sinclair/typebox';

// The service catalog as configuration as code (architecture.md, "Availability and SLAs"):
// configuration items, redundancy groups, services with SLAs, and the rules that map alert
// labels onto them. This is public config (YAML, PUT /api/v1/services): every object
// refuses unknown fields, and fields are only ever added, never renamed.

/**
 * Catalog ids: hostnames and slugs (`db-1.example.net`, `checkout`). No `/` (ids appear in
 * URL paths), no `:` (`strip_port` must never cut an id), at most 253 chars like a DNS name.
 */
export const CatalogId = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  maxLength: 253,
  description: 'letters, digits, ".", "_" and "-", starting with a letter or digit',
});

/** Prometheus label name rules, since labels are matched against alert labels. */
const LABEL_NAME_PATTERN = '^[a-zA-Z_][a-zA-Z0-9_]*$';
const LabelName = Type.String({ pattern: LABEL_NAME_PATTERN, description: 'a Prometheus label name' });

/** Kinds of configuration item; `other` is the escape hatch until a kind earns its own name. */
export const CI_TYPES = [
  'host',
  'virtual_machine',
  'container',
  'network_device',
  'link',
  'load_balancer',
  'storage',
  'database',
  'queue',
  'application',
  'service_endpoint',
  'other',
] as const;

export const ConfigurationItemSchema = Type.Object(
  {
    /** Unique across CIs, groups and services; often the host's FQDN so `instance` maps to it. */
    id: CatalogId,
    /** What kind of thing this is (drives icons and reports, not behaviour). */
    type: Type.Union(CI_TYPES.map((t) => Type.Literal(t)), { description: CI_TYPES.join(', ') }),
    /** Display name, also matchable by alert mapping rules (`ci.name`); defaults to the id. */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    /** Free key/value labels, matchable by alert mapping rules (`ci.label:<key>`). */
    labels: Type.Optional(Type.Record(LabelName, Type.String(), { additionalProperties: false })),
    /** Ids of CIs or redundancy groups this CI needs to work (its upstream dependencies). */
    dependsOn: Type.Optional(Type.Array(CatalogId)),
  },
  { additionalProperties: false },
);

export const RedundancyGroupSchema = Type.Object(
  {
    /** Unique across CIs, groups and services; CIs and services list it in `dependsOn`. */
    id: CatalogId,
    /** Display name; defaults to the id. */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    /** Ids of the interchangeable CIs (n). Groups do not nest: members are CIs. */
    members: Type.Array(CatalogId, { minItems: 1 }),
    /** The group is up while at least this many members are up (k of n, 1..members.length). */
    minimumUp: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

/** `HH:MM-HH:MM` in the SLA's time zone, start inclusive, end exclusive; `24:00` ends the day. */
const TIME_RANGE_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$';
const TimeRanges = Type.Array(Type.String({ pattern: TIME_RANGE_PATTERN, description: 'HH:MM-HH:MM, e.g. 08:00-18:00' }));

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const WeeklyScheduleSchema = Type.Object(
  {
    /** Scheduled (measured) hours per weekday; a day left out is not scheduled at all. */
    days: Type.Object(
      {
        mon: Type.Optional(TimeRanges),
        tue: Type.Optional(TimeRanges),
        wed: Type.Optional(TimeRanges),
        thu: Type.Optional(TimeRanges),
        fri: Type.Optional(TimeRanges),
        sat: Type.Optional(TimeRanges),
        sun: Type.Optional(TimeRanges),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const SlaSchema = Type.Object(
  {
    /** Availability objective in percent, e.g. 99.9; above 0, at most 100, at most 4 decimals (as Zabbix). */
    targetPercent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    /** Calendar reporting period, aligned in `timeZone` (a month is never 30 days). */
    period: Type.Union([Type.Literal('month'), Type.Literal('quarter'), Type.Literal('year')], { description: 'month, quarter or year' }),
    /** IANA zone in which periods start and the schedule is read; default UTC. */
    timeZone: Type.Optional(Type.String({ minLength: 1 })),
    /** Measured time: `24x7` (default) or weekly hours; time outside it counts neither up nor down. */
    schedule: Type.Optional(
      Type.Union([Type.Literal('24x7'), WeeklyScheduleSchema], { description: '"24x7" or { days: { mon: ["08:00-18:00"], ... } }' }),
    ),
  },
  { additionalProperties: false },
);

export const SERVICE_CRITICALITIES = ['critical', 'high', 'medium', 'low'] as const;

export const ServiceSchema = Type.Object(
  {
    /** Unique across CIs, groups and services; what alerts' `service` label and the API name. */
    id: CatalogId,
    /** Display name for people and reports. */
    name: Type.String({ minLength: 1, maxLength: 253 }),
    /** Business impact; with alert severity it sets incident priority (impact × urgency). */
    criticality: Type.Union(SERVICE_CRITICALITIES.map((c) => Type.Literal(c)), { description: SERVICE_CRITICALITIES.join(', ') }),
    /** Team that owns the service and its incidents. */
    ownerTeam: Type.String({ minLength: 1 }),
    /** CIs and redundancy groups the service needs; it is down when any of them is down. */
    dependsOn: Type.Array(CatalogId),
    /** Names of notification routes (defined by the notification config) for its incidents. */
    notificationRoutes: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** Availability agreement; a service without one is tracked but never reported as breached. */
    sla: Type.Optional(SlaSchema),
    /**
     * When the support team works the service's incidents: response and resolution timers
     * count only these hours (ITIL support hours, distinct from the SLA's measured schedule).
     * Absent: 24×7.
     */
    supportHours: Type.Optional(
      Type.Object(
        {
          /** IANA time zone the hours are read in, e.g. Europe/Berlin. */
          timeZone: Type.String({ minLength: 1 }),
          days: WeeklyScheduleSchema.properties.days,
          /** Local dates YYYY-MM-DD without support. */
          holidays: Type.Optional(Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }))),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ALERT_LABEL_TRANSFORMS = ['strip_port', 'lowercase', 'none'] as const;

/**
 * What a mapping rule compares the label value with: a CI's id, name or one of its labels,
 * or a service's id or name.
 */
const MATCH_PATTERN = `^(ci\\.id|ci\\.name|ci\\.label:[a-zA-Z_][a-zA-Z0-9_]*|service\\.id|service\\.name)$`;

export const AlertMappingRuleSchema = Type.Object(
  {
    /** Alert label whose value is looked up, e.g. `instance`, `host`, `service`. */
    label: LabelName,
    /** Applied to the value first: `strip_port` turns `db-1:9100` into `db-1`; `lowercase` compares case-insensitively. */
    transform: Type.Optional(Type.Union(ALERT_LABEL_TRANSFORMS.map((t) => Type.Literal(t)), { description: ALERT_LABEL_TRANSFORMS.join(', ') })),
    /** `ci.id`, `ci.name`, `ci.label:<key>`, `service.id` or `service.name`. */
    match: Type.String({ pattern: MATCH_PATTERN, description: 'ci.id, ci.name, ci.label:<key>, service.id or service.name' }),
  },
  { additionalProperties: false },
);

export const CatalogSchema = Type.Object(
  {
    /** Format version, so the format can change without guessing; only 1 exists. */
    version: Type.Optional(Type.Literal(1)),
    /** Hosts, network devices, links, databases, applications, endpoints. */
    configurationItems: Type.Array(ConfigurationItemSchema),
    /** k-of-n sets of interchangeable CIs, depended on like a CI. */
    redundancyGroups: Type.Optional(Type.Array(RedundancyGroupSchema)),
    /** What people consume and SLAs are about. */
    services: Type.Array(ServiceSchema),
    /** Rules tried in order, first match wins; left out means DEFAULT_ALERT_MAPPING. */
    alertMapping: Type.Optional(Type.Array(AlertMappingRuleSchema)),
  },
  { additionalProperties: false },
);

export type ConfigurationItem = Static<typeof ConfigurationItemSchema>;
export type CiType = ConfigurationItem['type'];
export type RedundancyGroup = Static<typeof RedundancyGroupSchema>;
export type WeeklySchedule = Static<typeof WeeklyScheduleSchema>;
export type Sla = Static<typeof SlaSchema>;
export type Service = Static<typeof ServiceSchema>;
export type ServiceCriticality = Service['criticality'];
export type AlertMappingRule = Static<typeof AlertMappingRuleSchema>;
export type Catalog = Static<typeof CatalogSchema>;

/**
 * Used when a catalog has no `alertMapping`: exporters' `instance` (port dropped), then
 * `host` and `device` labels, then `source` (PagerDuty's payload.source, "preferably a hostname
 * or FQDN"; port dropped), to a CI by id then by name; last, a `service` label names a
 * service directly. CI rules come first so an alert carrying both lands on its CI.
 */
export const DEFAULT_ALERT_MAPPING: readonly AlertMappingRule[] = Object.freeze([
  { label: 'instance', transform: 'strip_port', match: 'ci.id' },
  { label: 'instance', transform: 'strip_port', match: 'ci.name' },
  { label: 'host', match: 'ci.id' },
  { label: 'host', match: 'ci.name' },
  { label: 'device', match: 'ci.id' },
  { label: 'device', match: 'ci.name' },
  { label: 'source', transform: 'strip_port', match: 'ci.id' },
  { label: 'source', transform: 'strip_port', match: 'ci.name' },
  { label: 'service', match: 'service.id' },
] satisfies AlertMappingRule[]);
