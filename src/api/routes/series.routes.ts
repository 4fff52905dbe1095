import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseSeriesSelector, type SeriesSelector } from '../../shared/series-selector.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { exportSamples, findSeries, type SeriesQuery } from '../../storage/metrics.queries.js';
import type { Store } from '../../storage/store.js';
import { parsePaging } from '../paging.js';
import { parseTimeRange } from '../time-params.js';

export interface SeriesRouteDeps {
  store: Store;
  clock: Clock;
  /** Resolves once every acknowledged write is queryable, so reads see what was acknowledged. */
  whenWritesVisible: () => Promise<void>;
}

/** Default and ceiling for series returned by one call: a listing is cut (with a warning), an export refused past it. */
const DEFAULT_SERIES_LIMIT = 10_000;
const MAX_SERIES_LIMIT = 100_000;

/** Reading back what was stored: Prometheus' series listing and VictoriaMetrics' JSON-lines export. */
export async function seriesRoutes(app: FastifyInstance, deps: SeriesRouteDeps): Promise<void> {
  const parseQuery = (raw: Record<string, string | string[] | undefined>, defaultLimit = DEFAULT_SERIES_LIMIT): SeriesQuery => {
    const matches = raw['match[]'];
    const list = matches === undefined ? [] : Array.isArray(matches) ? matches : [matches];
    if (list.length === 0) throw new AppError('REQUEST_INVALID', 'no match[] parameter: give at least one series selector, e.g. match[]=up', { httpStatus: 400 });
    const selectors: SeriesSelector[] = list.map((text) => {
      const parsed = parseSeriesSelector(text);
      if (!parsed.ok) throw new AppError('REQUEST_INVALID', `match[] ${JSON.stringify(text)}: ${parsed.detail}`, { httpStatus: 400 });
      return parsed.selector;
    });
    const single = (name: string) => {
      const v = raw[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const nowMs = deps.clock.nowMs();
    const { startMs, endMs } = parseTimeRange({ name: 'start', value: single('start'), fallbackMs: Number.NEGATIVE_INFINITY }, { name: 'end', value: single('end'), fallbackMs: nowMs });
    // limit=0: no limit, as in Prometheus; here the ceiling.
    const limitText = single('limit') === '0' ? String(MAX_SERIES_LIMIT) : single('limit');
    const { limit } = parsePaging(limitText === undefined ? {} : { limit: limitText }, { limit: defaultLimit, maxLimit: MAX_SERIES_LIMIT });
    return { selectors, startMs, endMs, limit };
  };

  const listSeries = async (raw: Record<string, string | string[] | undefined>) => {
    const query = parseQuery(raw);
    await deps.whenWritesVisible();
    const series = await findSeries(deps.store, query);
    // As Prometheus answers a listing its limit cut.
    if (series.length > query.limit) return { status: 'success', data: series.slice(0, query.limit).map((s) => s.labels), warnings: ['results truncated due to limit'] };
    return { status: 'success', data: series.map((s) => s.labels) };
  };
  // Prometheus clients (Grafana) read its error shape: `{ status, errorType, error }`.
  const prometheusApi = { config: { errorShape: 'prometheus' as const } };
  app.get('/api/v1/series', prometheusApi, (request) => listSeries(request.query as Record<string, string | string[] | undefined>));

  // Prometheus also takes the parameters form-encoded in a POST body (Grafana's Prometheus
  // data source does so by default, for long selectors): read with the URL's, as one list.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));
  /** The parameters of the URL and of a form-encoded body, as one list per name. */
  const urlAndFormParameters = (request: FastifyRequest): Record<string, string[]> => {
    const params = new URLSearchParams(request.url.split('?')[1] ?? '');
    for (const [name, value] of new URLSearchParams(typeof request.body === 'string' ? request.body : '')) params.append(name, value);
    const raw: Record<string, string[]> = {};
    for (const [name, value] of params) (raw[name] ??= []).push(value);
    return raw;
  };
  app.post('/api/v1/series', prometheusApi, (request) => listSeries(urlAndFormParameters(request)));

  const exportLines = async (raw: Record<string, string | string[] | undefined>, reply: FastifyReply) => {
    // Exports go in chunks, so the ceiling is the default: more is refused, never cut silently.
    const query = parseQuery(raw, MAX_SERIES_LIMIT);
    await deps.whenWritesVisible();
    const chunks = exportSamples(deps.store, query);
    // The first chunk before answering, so a failing query still gets its error status.
    const first = await chunks.next();
    async function* lines(): AsyncGenerator<string> {
      if (first.done) return;
      yield first.value.map((s) => JSON.stringify(s) + '\n').join('');
      // Later chunks are written as they come: a failure now can only cut the answer short.
      for await (const chunk of chunks) yield chunk.map((s) => JSON.stringify(s) + '\n').join('');
    }
    return reply.type('application/stream+json').send(Readable.from(lines()));
  };
  app.get('/api/v1/export', (request, reply) => exportLines(request.query as Record<string, string | string[] | undefined>, reply));
  // VictoriaMetrics takes the export's parameters form-encoded in a POST body too.
  app.post('/api/v1/export', (request, reply) => exportLines(urlAndFormParameters(request), reply));
}
