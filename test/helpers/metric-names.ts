/*
 * Vigil's /metrics as tests read it: the samples of a scrape, the series names it provides,
 * and the metric names PromQL (rules, dashboards) reads, so a renamed metric or a typo in an
 * example fails a test instead of a panel going blank.
 */

/** A PromQL string literal (double, single or back quotes). */
export const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;
/** PromQL words that are not metric names when not followed by `(`. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan']);
const COUNTER_FUNCTIONS = /\b(?:rate|irate|increase)\s*\(\s*$/;

export interface MetricUse {
  name: string;
  /** The raw label matchers of the selector (between the braces), '' without braces. */
  matchers: string;
  /** Directly inside rate(), irate() or increase(). */
  throughCounterFunction: boolean;
}

/**
 * The metric names a PromQL expression (with Grafana variables) selects: identifiers standing as
 * an operand, with or without `{...}` / `[...]`, that are not functions, aggregations, keywords,
 * label names (matchers, `by (...)` lists) or parts of numbers and durations.
 */
export function metricUses(expr: string): MetricUse[] {
  const matcherTexts: string[] = [];
  const normalised = expr
    // Grafana variables: ${name} and ${name:format} as $name, so their braces are not selectors.
    .replace(/\$\{(\w+)(?::\w+)?\}/g, '$$$1')
    // Label matchers (strings inside kept), set aside as {N}.
    .replace(/\{((?:[^}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*)\}/g, (_all, inner: string) => `{${matcherTexts.push(inner) - 1}}`)
    .replace(STRING, '""')
    .replace(/#[^\n]*/g, '')
    .replace(/\$\w+|\[\[\w+\]\]/g, '')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const uses: MetricUse[] = [];
  for (const match of normalised.matchAll(/(?<![\w.:$])[a-zA-Z_:][\w:]*(?![\w:])/g)) {
    const name = match[0];
    const rest = normalised.slice(match.index + name.length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(name.toLowerCase())) continue;
    const braces = /^\s*\{(\d+)\}/.exec(rest);
    uses.push({
      name,
      matchers: braces ? (matcherTexts[Number(braces[1])] ?? '') : '',
      throughCounterFunction: COUNTER_FUNCTIONS.test(normalised.slice(0, match.index)),
    });
  }
  return uses;
}

export type SeriesKind = 'counter' | 'gauge' | 'untyped';

/** Series names a Prometheus exposition provides, from its `# TYPE` lines, with how to read them. */
export function seriesNamesOf(exposition: string): Map<string, SeriesKind> {
  const names = new Map<string, SeriesKind>();
  for (const [, family, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const name = family!;
    if (type === 'counter') {
      names.set(name, 'counter');
      if (!name.endsWith('_total')) names.set(`${name}_total`, 'counter'); // OpenMetrics names the family without _total
    } else if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.set(name + suffix, 'counter');
    } else if (type === 'summary') {
      names.set(name, 'gauge');
      for (const suffix of ['_sum', '_count']) names.set(name + suffix, 'counter');
    } else {
      names.set(name, type === 'gauge' ? 'gauge' : 'untyped');
    }
  }
  return names;
}

/**
 * The samples of a /metrics scrape by `name{label="value",...}`, labels sorted by name (so a
 * test need not know the order prom-client prints them in).
 */
export async function scrapeSamples(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    samples.set(labels.length > 0 ? `${match[1]}{${labels.join(',')}}` : match[1]!, Number(match[3]));
  }
  return samples;
}
