import type { AlertState } from './alert-state.js';

/** How alerts group into incidents (configurable). */
export interface GroupingRule {
  name: string;
  /** Alerts with equal values of these labels share an incident. */
  groupBy: string[];
  /** Firing alerts of a group count towards `minFiringAlerts` for this long after they fired. */
  windowMs: number;
  /** An incident opens only once this many alerts of the group fire within the window. */
  minFiringAlerts: number;
}

export const DEFAULT_GROUPING_RULE: GroupingRule = { name: 'by-alertname', groupBy: ['alertname'], windowMs: 5 * 60_000, minFiringAlerts: 1 };

/**
 * The group an alert belongs to under a rule, as a stable key, plus the label values that
 * made it (the membership's "why"). A missing label counts as empty, as in Alertmanager, so
 * alerts of a storm that lack the labels still make one incident. A PagerDuty event with none
 * of the labels (its labels are source, severity, component, group, class: no alertname) is
 * a group of its own (`alone`), as PagerDuty makes an incident per dedup_key, instead of
 * sharing one incident with every PagerDuty event of every sender.
 */
export function groupKeyOf(alert: Pick<AlertState, 'labels' | 'fingerprint' | 'source'>, rule: GroupingRule): { key: string; values: Record<string, string>; alone: boolean } {
  const values: Record<string, string> = {};
  let present = 0;
  for (const name of rule.groupBy) {
    const value = alert.labels[name] ?? '';
    values[name] = value;
    if (value !== '') present++;
  }
  if (present === 0 && rule.groupBy.length > 0 && alert.source === 'pagerduty') {
    return { key: `${rule.name}:alert:${JSON.stringify(alert.fingerprint)}`, values, alone: true };
  }
  return { key: `${rule.name}:${JSON.stringify(rule.groupBy.map((n) => values[n]))}`, values, alone: false };
}

/**
 * A human title for a new incident: the alert's summary, else its alertname and group values;
 * at most TITLE_MAX_CHARS (a description may run to megabytes, and every listing carries titles).
 */
export function incidentTitle(labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>>, values: Record<string, string>): string {
  const summary = annotations.summary ?? annotations.description;
  if (summary) return shortened(summary);
  const parts = Object.entries(values).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`);
  return shortened(`${labels.alertname ?? 'alert'}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`);
}

const TITLE_MAX_CHARS = 500;

/** `text` cut to TITLE_MAX_CHARS with an ellipsis, never between the halves of a surrogate pair. */
function shortened(text: string): string {
  if (text.length <= TITLE_MAX_CHARS) return text;
  let end = TITLE_MAX_CHARS - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
