/**
 * The one alert model every intake protocol normalises into (architecture.md, "Correlation
 * core": normalise → dedup → suppress → group). Pure data, no behaviour.
 */

/** The intake protocols, in the order of api.md's ingest table. */
export const ALERT_SOURCES = ['alertmanager', 'prometheus', 'vigil', 'pagerduty'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/** Most to least urgent; urgency in the ITIL priority matrix comes from this. */
export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ALERT_STATUSES = ['firing', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** One alert state report from a sender, normalised; repeated reports share `fingerprint`. */
export interface AlertEvent {
  /** Which intake protocol delivered it (not the monitoring tool's own name: see `origin`). */
  source: AlertSource;
  /** Alert identity: the sender's own key (Alertmanager `fingerprint`, PagerDuty `dedup_key`) or `fingerprintLabels(labels)`. */
  fingerprint: string;
  /** Identifying labels as sent (Prometheus semantics: annotations and values are not identity). */
  labels: Readonly<Record<string, string>>;
  /** Descriptive key/values (summary, description, runbook, PagerDuty custom details); never identity. */
  annotations: Readonly<Record<string, string>>;
  /** `resolved` once the sender says so or its `endsAt` lease is in the past at intake. */
  status: AlertStatus;
  /** Mapped from the `severity` label (or Vigil's explicit field, or PagerDuty's payload severity). */
  severity: Severity;
  /** When the condition began, ms since 1970 UTC; the arrival time when the sender gave none. */
  startsAtMs: number;
  /** When it ended (resolved) or when the sender's lease expires (firing); null: no end given. */
  endsAtMs: number | null;
  /** Link back to the rule or check that produced it (Prometheus `generatorURL`); absent when empty. */
  generatorUrl?: string;
  /** When Vigil received it, ms since 1970 UTC (the `nowMs` given to the normaliser). */
  receivedAtMs: number;
  /** The sender's notification group (Alertmanager `groupKey`, or PagerDuty's group dedup_key). */
  groupKey?: string;
  /** Free-form name of the tool or script that produced it (Vigil JSON `source`, PagerDuty `client`). */
  origin?: string;
  /** PagerDuty `acknowledge`: a human has seen it; status stays `firing`. */
  acknowledged?: true;
  /**
   * The sender said only the status (a PagerDuty acknowledge or resolve without payload):
   * the alert keeps its severity and annotations, and an alert Vigil does not know is not made.
   */
  bare?: true;
}
