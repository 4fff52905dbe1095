export * from './alert.js';
export { fingerprintLabels } from './alert-fingerprint.js';
export {
  normalizeAlertmanagerWebhook,
  normalizeAlertmanagerV2Alerts,
  normalizeVigilAlerts,
  normalizePagerDutyEvent,
  mapSeverity,
  type NormalizeResult,
} from './normalize-alerts.js';
export * from './incident-lifecycle.js';
export * from './priority.js';
export * from './sla-timers.js';
export * from './incident-statistics.js';
export * from './escalation.js';
