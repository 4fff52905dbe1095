/*
 * Metric names as rules and dashboards use them, against what a running Vigil exposes: a
 * renamed metric, or a typo in an example, fails a test instead of a panel going blank.
 */

/** The sample names a scrape of `metricsUrl` can carry: every family's, with a histogram's and a summary's series. */
export async function exposedSampleNames(metricsUrl: string): Promise<Set<string>> {
  const text = await (await fetch(metricsUrl)).text();
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, family, type] = match as unknown as [string, string, string];
    names.add(family);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(family + suffix);
  }
  return names;
}

/**
 * The metric names a PromQL expression reads: a name before a selector's `{` or a range's
 * `[`, or any identifier with one of Vigil's or prom-client's prefixes. Label names inside
 * braces and functions (followed by `(`) are not metric names.
 */
export function metricNamesIn(promql: string): string[] {
  const withoutMatchers = promql.replace(/\{[^}]*\}/g, '{}');
  const names = new Set<string>();
  for (const match of withoutMatchers.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=[{[])/g)) names.add(match[1]!);
  for (const match of withoutMatchers.matchAll(/\b((?:vigil|process|nodejs)_[a-zA-Z0-9_:]*)\b(?!\s*\()/g)) names.add(match[1]!);
  return [...names];
}
