import { ALERT_EVENT_LAYOUT, ALERT_EVENT_LAYOUT_1, ALERT_STATE_LAYOUT } from './alerts.queries.js';
import { INCIDENT_ALERT_LAYOUT, INCIDENT_EVENT_LAYOUT } from './incidents.queries.js';
import type { RowBinaryLayout } from './row-binary.js';

/** Every RowBinary row layout the row journal may find in its files, replays after a crash included. */
export const JOURNAL_LAYOUTS: readonly RowBinaryLayout[] = [ALERT_EVENT_LAYOUT, ALERT_EVENT_LAYOUT_1, ALERT_STATE_LAYOUT, INCIDENT_EVENT_LAYOUT, INCIDENT_ALERT_LAYOUT];
