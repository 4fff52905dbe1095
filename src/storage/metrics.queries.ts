import type { LabelMatcher, SeriesSelector } from '../shared/series-selector.js';
import { compileMatcherRegex } from '../shared/series-selector.js';
import type { Store } from './store.js';
import { AppError } from '../shared/errors.js';

export interface SeriesQuery {
  selectors: SeriesSelector[];
  startMs: number;
  endMs: number;
  limit: number;
}

export interface StoredSeries {
  id: string;
  labels: Record<string, string>;
}

/**
 * A sample value as VictoriaMetrics' export writes it (export.qtpl, convertValueToSpecialJSON):
 * a JSON number; null for NaN, Prometheus' stale marker included (VictoriaMetrics 1.79 from
 * Debian writes null for it too); "Infinity" and "-Infinity", which its /api/v1/import reads
 * back (it refuses "+Inf"). The samples table keeps the stale marker bit for bit.
 */
export type ExportValue = number | null | 'Infinity' | '-Infinity';

export interface ExportedSeries {
  metric: Record<string, string>;
  values: ExportValue[];
  timestamps: number[];
}

/**
 * Builds the WHERE clause for a set of selectors over metric_series_v1. Values travel as
 * server-side parameters; only parameter names are generated. Throws on an invalid regex
 * (callers validate selectors first, so that is a programming error).
 */
export function buildSelectorCondition(selectors: SeriesSelector[], params: Record<string, unknown>): string {
  let n = 0;
  const matcherSql = (m: LabelMatcher): string => {
    const column = m.name === '__name__' ? 'metric_name' : `labels[{l${n}:String}]`;
    if (m.name !== '__name__') params[`l${n}`] = m.name;
    const param = `v${n}`;
    n++;
    switch (m.op) {
      case '=':
        params[param] = m.value;
        return `${column} = {${param}:String}`;
      case '!=':
        params[param] = m.value;
        return `${column} != {${param}:String}`;
      case '=~':
      case '!~': {
        const compiled = compileMatcherRegex(m.value);
        if (!compiled.ok) throw new Error(`invalid regex ${m.value}: ${compiled.detail}`);
        params[param] = compiled.source;
        return `${m.op === '!~' ? 'NOT ' : ''}match(${column}, {${param}:String})`;
      }
      default:
        throw new Error(`unknown matcher operator ${String(m.op)}`);
    }
  };
  return selectors.map((s) => `(${s.matchers.map(matcherSql).join(' AND ') || '1'})`).join(' OR ');
}

function seriesFilter(query: SeriesQuery, params: Record<string, unknown>): string {
  params.startMs = query.startMs;
  params.endMs = query.endMs;
  return `day BETWEEN toDate(fromUnixTimestamp64Milli({startMs:Int64}), 'UTC') AND toDate(fromUnixTimestamp64Milli({endMs:Int64}), 'UTC')
    AND (${buildSelectorCondition(query.selectors, params)})`;
}

/**
 * Series whose label sets match any selector and that have samples on a day within the range:
 * up to `query.limit` of them and one more, so that the caller can tell a cut result.
 */
export async function findSeries(store: Store, query: SeriesQuery): Promise<StoredSeries[]> {
  const params: Record<string, unknown> = { limit: query.limit + 1 };
  // Aliases differ from column names: ClickHouse would resolve WHERE's columns to them.
  const rows = await store.query<{ id: string; name: string; label_map: Record<string, string> }>(
    'find series',
    `SELECT toString(series_id) AS id, any(metric_name) AS name, any(labels) AS label_map
     FROM metric_series_v1
     WHERE ${seriesFilter(query, params)}
     GROUP BY series_id
     ORDER BY name, id
     LIMIT {limit:UInt32}`,
    params,
  );
  return rows.map((r) => ({ id: r.id, labels: { __name__: r.name, ...r.label_map } }));
}

/**
 * Samples per query of an export: the engine builds each query's whole result in memory,
 * and so does the JSON answer, so an export goes in chunks of series holding about this
 * many samples (one series alone may exceed it).
 */
export const EXPORT_CHUNK_SAMPLES = 1_000_000;

/**
 * Samples of the matching series within [startMs, endMs], in time order per series, the
 * series in label order: chunk after chunk of series, so that memory stays bounded however
 * long the range is (a month of 100 series at 15 s already passed V8's largest string).
 */
export async function* exportSamples(store: Store, query: SeriesQuery, chunkSamples = EXPORT_CHUNK_SAMPLES): AsyncGenerator<ExportedSeries[]> {
  const series = await findSeries(store, query);
  if (series.length === 0) return;
  // An export cut short without a word would pass for all there is (a backup missing series).
  if (series.length > query.limit) {
    throw new AppError(
      'EXPORT_TOO_MANY_SERIES',
      `match[] selects more than ${query.limit} series in the time range (its limit): narrow match[] or the range`,
      { httpStatus: 400 },
    );
  }
  series.sort((a, b) => seriesOrder(a.labels, b.labels));
  const counts = await store.query<{ id: string; n: string | number }>(
    'count export samples',
    `SELECT toString(series_id) AS id, count() AS n
     FROM metric_samples_v1
     WHERE series_id IN (SELECT toUInt64(arrayJoin({ids:Array(String)})))
       AND ts BETWEEN fromUnixTimestamp64Milli({startMs:Int64}) AND fromUnixTimestamp64Milli({endMs:Int64})
     GROUP BY series_id`,
    { ids: series.map((s) => s.id), startMs: query.startMs, endMs: query.endMs },
  );
  const samplesOf = new Map(counts.map((c) => [c.id, Number(c.n)]));
  let chunk: StoredSeries[] = [];
  let chunkTotal = 0;
  for (const s of series) {
    const n = samplesOf.get(s.id) ?? 0;
    if (n === 0) continue;
    if (chunk.length > 0 && chunkTotal + n > chunkSamples) {
      yield await exportChunk(store, chunk, query);
      chunk = [];
      chunkTotal = 0;
    }
    chunk.push(s);
    chunkTotal += n;
  }
  if (chunk.length > 0) yield await exportChunk(store, chunk, query);
}

async function exportChunk(store: Store, series: readonly StoredSeries[], query: SeriesQuery): Promise<ExportedSeries[]> {
  const rows = await store.query<{ id: string; points: [number, number, string][] }>(
    'export samples',
    `SELECT toString(series_id) AS id,
            arraySort(p -> p.1, groupArray((toUnixTimestamp64Milli(ts), if(isFinite(value), value, 0),
              multiIf(isNaN(value), 'NaN', value > 0 AND NOT isFinite(value), 'Infinity', NOT isFinite(value), '-Infinity', '')))) AS points
     -- One sample per series and time: a sender's retry of a write it did not see
     -- acknowledged stores its samples again (Prometheus and VictoriaMetrics keep one).
     FROM (SELECT series_id, ts, any(value) AS value FROM metric_samples_v1
       WHERE series_id IN (SELECT toUInt64(arrayJoin({ids:Array(String)})))
         AND ts BETWEEN fromUnixTimestamp64Milli({startMs:Int64}) AND fromUnixTimestamp64Milli({endMs:Int64})
       GROUP BY series_id, ts)
     GROUP BY series_id`,
    { ids: series.map((s) => s.id), startMs: query.startMs, endMs: query.endMs },
  );
  const pointsById = new Map(rows.map((row) => [row.id, row.points]));
  // In the chunk's (label) order.
  return series.flatMap((s) => {
    const points = pointsById.get(s.id);
    if (!points) return [];
    return [
      {
        metric: s.labels,
        timestamps: points.map((p) => Number(p[0])),
        values: points.map((p): ExportValue => (p[2] === '' ? Number(p[1]) : p[2] === 'NaN' ? null : (p[2] as ExportValue))),
      },
    ];
  });
}

function seriesOrder(a: Record<string, string>, b: Record<string, string>): number {
  const ka = JSON.stringify(a);
  const kb = JSON.stringify(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
