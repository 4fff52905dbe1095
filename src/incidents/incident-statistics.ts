/**
 * MTTA and MTTR per service and priority, with nearest-rank percentiles (means mislead for
 * heavy-tailed durations, ../../../shared/research/alerts.md §7). Definitions, all wall-clock
 * time (not business hours: these measure the team's reaction, SLA timers measure the
 * contract), for a period `[fromMs, toMs)`:
 *
 * - **MTTA** (mean time to acknowledge) = mean(acknowledgedAt − createdAt) over incidents
 *   whose (first) acknowledgement falls in the period. Never-acknowledged incidents are
 *   excluded, as most tools do.
 * - **MTTR** (mean time to resolve) = mean(resolvedAt − createdAt) over incidents whose
 *   (last) resolution falls in the period, acknowledged or not (auto-resolved included).
 * - **count** = incidents created in the period; `acknowledgedCount` and `resolvedCount`
 *   are the sample sizes of MTTA and MTTR.
 * - **responseBreachedCount**, **resolutionBreachedCount** = incidents created in the period
 *   that breached the response (resolution) SLA target, as flagged by the time of the report
 *   (an open incident past its due time counts).
 * - Percentile p by nearest rank: sort ascending, take the value at rank ⌈p/100 · n⌉
 *   (1-based), so every reported figure is one that was observed.
 *
 * An incident counts once for each distinct service it affects. A timestamp before
 * `createdAt` (clock skew between sources) is taken as 0. Means are rounded to whole ms.
 * Pure: no I/O.
 */
import type { Priority } from './priority.js';
import { PRIORITIES } from './priority.js';

export interface IncidentTimes {
  serviceIds: readonly string[];
  priority: Priority;
  createdAtMs: number;
  /** First acknowledgement. */
  acknowledgedAtMs?: number;
  /** Last resolution (a reopened incident counts until it is resolved again). */
  resolvedAtMs?: number;
  responseBreached?: boolean;
  resolutionBreached?: boolean;
}

export interface StatisticsPeriod {
  fromMs: number;
  /** Exclusive. */
  toMs: number;
}

export interface ResponseStatistics {
  serviceId: string;
  priority: Priority;
  count: number;
  acknowledgedCount: number;
  resolvedCount: number;
  responseBreachedCount: number;
  resolutionBreachedCount: number;
  /** null when nothing was acknowledged (resolved) in the period; so are the percentiles. */
  mttaMs: number | null;
  mttaP50Ms: number | null;
  mttaP90Ms: number | null;
  mttaP99Ms: number | null;
  mttrMs: number | null;
  mttrP50Ms: number | null;
  mttrP90Ms: number | null;
  mttrP99Ms: number | null;
}

/**
 * Nearest-rank percentile of `sorted` (ascending), `p` in (0, 100]; null for no values.
 * Throws RangeError for p outside (0, 100].
 */
export function nearestRankPercentile(sorted: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (sorted.length === 0) return null;
  // p·n first: (p / 100)·n rounds 99.9 % of 1,000 up to 999.0000000000001, and a rank too far.
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

function summarise(durations: number[]): { mean: number | null; p50: number | null; p90: number | null; p99: number | null } {
  const sorted = [...durations].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? null : Math.round(sorted.reduce((total, d) => total + d, 0) / sorted.length);
  return {
    mean,
    p50: nearestRankPercentile(sorted, 50),
    p90: nearestRankPercentile(sorted, 90),
    p99: nearestRankPercentile(sorted, 99),
  };
}

function inPeriod(ms: number | undefined, period: StatisticsPeriod): ms is number {
  return ms !== undefined && ms >= period.fromMs && ms < period.toMs;
}

interface Bucket {
  serviceId: string;
  priority: Priority;
  count: number;
  responseBreaches: number;
  resolutionBreaches: number;
  ackDurations: number[];
  resolveDurations: number[];
}

/**
 * MTTA/MTTR with p50, p90 and p99 per (service, priority) for `period` (definitions in the
 * module comment). Only pairs with at least one incident created, acknowledged or resolved
 * in the period appear; rows are sorted by service id, then priority P1..P4.
 */
export function computeResponseStatistics(incidents: readonly IncidentTimes[], period: StatisticsPeriod): ResponseStatistics[] {
  const buckets = new Map<string, Bucket>();
  for (const incident of incidents) {
    const created = inPeriod(incident.createdAtMs, period);
    const acknowledged = inPeriod(incident.acknowledgedAtMs, period);
    const resolved = inPeriod(incident.resolvedAtMs, period);
    if (!created && !acknowledged && !resolved) continue;
    for (const serviceId of new Set(incident.serviceIds)) {
      const key = JSON.stringify([serviceId, incident.priority]);
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        bucket = { serviceId, priority: incident.priority, count: 0, responseBreaches: 0, resolutionBreaches: 0, ackDurations: [], resolveDurations: [] };
        buckets.set(key, bucket);
      }
      if (created) {
        bucket.count += 1;
        if (incident.responseBreached === true) bucket.responseBreaches += 1;
        if (incident.resolutionBreached === true) bucket.resolutionBreaches += 1;
      }
      if (acknowledged) bucket.ackDurations.push(Math.max(0, (incident.acknowledgedAtMs ?? 0) - incident.createdAtMs));
      if (resolved) bucket.resolveDurations.push(Math.max(0, (incident.resolvedAtMs ?? 0) - incident.createdAtMs));
    }
  }
  return [...buckets.values()]
    .sort((a, b) =>
      a.serviceId === b.serviceId
        ? PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority)
        : a.serviceId < b.serviceId
          ? -1
          : 1,
    )
    .map((bucket) => {
      const mtta = summarise(bucket.ackDurations);
      const mttr = summarise(bucket.resolveDurations);
      return {
        serviceId: bucket.serviceId,
        priority: bucket.priority,
        count: bucket.count,
        acknowledgedCount: bucket.ackDurations.length,
        resolvedCount: bucket.resolveDurations.length,
        responseBreachedCount: bucket.responseBreaches,
        resolutionBreachedCount: bucket.resolutionBreaches,
        mttaMs: mtta.mean,
        mttaP50Ms: mtta.p50,
        mttaP90Ms: mtta.p90,
        mttaP99Ms: mtta.p99,
        mttrMs: mttr.mean,
        mttrP50Ms: mttr.p50,
        mttrP90Ms: mttr.p90,
        mttrP99Ms: mttr.p99,
      };
    });
}
