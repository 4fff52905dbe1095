/**
 * OTLP metric and attribute names → Prometheus names, following Prometheus' own translation with
 * the `UnderscoreEscapingWithSuffixes` strategy: prometheus/otlptranslator metric_namer.go
 * (`normalizeName`, `buildUnitSuffixes`, `addUnitTokens`, `cleanUpUnit`, `unitMap`, `perUnitMap`)
 * and label_namer.go / strconv.go (`LabelNamer.Build`, `sanitizeLabelName`).
 */

/** Which suffix rules apply: `_total` only for monotonic sums, `_ratio` only for gauges with unit "1". */
export type NamingKind = 'gauge' | 'monotonicSum' | 'other';

/** UCUM unit → Prometheus unit word (otlptranslator `unitMap`); "1" maps to nothing. */
const UNIT_WORDS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

/** The denominator of `X/Y` units, singular (otlptranslator `perUnitMap`). */
const PER_UNIT_WORDS: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

function ownWord(words: Record<string, string>, unit: string): string | undefined {
  return Object.hasOwn(words, unit) ? words[unit] : undefined;
}

/** Runs of characters outside the legacy metric charset; `_` counts as a separator, so runs collapse. */
const METRIC_SEPARATORS = /[^a-zA-Z0-9:]+/u;
const INVALID_UNIT_CHARS = /[^a-zA-Z0-9:]/gu;
const INVALID_LABEL_CHARS = /[^a-zA-Z0-9_]/gu;
const STARTS_WITH_DIGIT = /^[0-9]/;

/** Prometheus metric name for an OTLP metric, or undefined when nothing valid is left of the name. */
export function buildMetricName(name: string, unit: string, kind: NamingKind): string | undefined {
  let tokens = name.split(METRIC_SEPARATORS).filter((token) => token !== '');
  const { main, per } = buildUnitSuffixes(unit);
  tokens = addUnitTokens(tokens, cleanUpUnit(main), cleanUpUnit(per));
  if (kind === 'monotonicSum') tokens = [...tokens.filter((t) => t !== 'total'), 'total'];
  if (unit === '1' && kind === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  let normalized = tokens.join('_');
  if (STARTS_WITH_DIGIT.test(normalized)) normalized = `_${normalized}`;
  if (normalized === '' || /^_+$/.test(normalized)) return undefined;
  return normalized;
}

/**
 * Prometheus label name for an attribute key, or undefined for an empty key. Invalid characters
 * become `_`; a leading digit gets `key_` and a leading `_` gets `key` (LabelNamer.Build).
 * Deviation: Prometheus keeps keys starting with `__` as they are; Vigil prefixes them too, so
 * an attribute can never produce a reserved label such as `__name__`.
 */
export function buildLabelName(key: string): string | undefined {
  if (key === '') return undefined;
  const sanitized = key.replace(INVALID_LABEL_CHARS, '_');
  if (STARTS_WITH_DIGIT.test(sanitized)) return `key_${sanitized}`;
  if (sanitized.startsWith('_')) return `key${sanitized}`;
  return sanitized;
}

/** Splits `X/Y` into the main word and `per_<y>`; annotations in braces (`{packets}`) are dropped. */
function buildUnitSuffixes(unit: string): { main: string; per: string } {
  const slash = unit.indexOf('/');
  const mainUnit = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  const perUnit = slash < 0 ? '' : unit.slice(slash + 1).trim();
  // Own keys only: a unit "constructor" or "toString" would otherwise find Object.prototype's.
  const main = mainUnit !== '' && !/[{}]/.test(mainUnit) ? (ownWord(UNIT_WORDS, mainUnit) ?? mainUnit) : '';
  const perWord = perUnit !== '' && !/[{}]/.test(perUnit) ? (ownWord(PER_UNIT_WORDS, perUnit) ?? perUnit) : '';
  return { main, per: perWord === '' ? '' : `per_${perWord}` };
}

/** Unit words may only hold metric characters: others become `_`, runs collapse, a leading `_` goes. */
function cleanUpUnit(unit: string): string {
  return unit.replace(INVALID_UNIT_CHARS, '_').replace(/__+/g, '_').replace(/^_/, '');
}

/** Appends the unit words unless the name already contains them as a token. */
function addUnitTokens(tokens: string[], mainSuffix: string, perSuffix: string): string[] {
  let main = tokens.includes(mainSuffix) ? '' : mainSuffix;
  let per = perSuffix === 'per_' ? '' : perSuffix.replace(/_$/, '');
  if (tokens.includes(per)) per = '';
  if (per !== '') main = main.replace(/_$/, '');
  const result = [...tokens];
  if (main !== '') result.push(main);
  if (per !== '') result.push(per);
  return result;
}
