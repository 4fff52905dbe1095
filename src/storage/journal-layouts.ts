import { ALERT_EVENT_LAYOUT } from './alerts.queries.js';
import type { RowBinaryLayout } from './row-binary.js';

/** Every RowBinary row layout the row journal may find in its files, replays after a crash included. */
export const JOURNAL_LAYOUTS: readonly RowBinaryLayout[] = [ALERT_EVENT_LAYOUT];
