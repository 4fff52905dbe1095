import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  compileMatcherRegex,
  matchesSelector,
  parseSeriesSelector,
  type LabelMatcher,
  type SeriesSelector,
} from '../../src/shared/series-selector.js';

const EMPTY = 'vector selector must contain at least one non-empty matcher (for every series: {__name__!=""})';
const name = (value: string): LabelMatcher => ({ name: '__name__', op: '=', value });

function parse(text: string): SeriesSelector {
  const result = parseSeriesSelector(text);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(text)} to parse: ${result.detail}`);
  return result.selector;
}

describe('parseSeriesSelector: valid selectors', () => {
  const cases: Array<[string, LabelMatcher[]]> = [
    ['up', [name('up')]],
    ['up{job="node"}', [name('up'), { name: 'job', op: '=', value: 'node' }]],
    [
      '{__name__=~"node_.*",instance!="a:9100"}',
      [
        { name: '__name__', op: '=~', value: 'node_.*' },
        { name: 'instance', op: '!=', value: 'a:9100' },
      ],
    ],
    [
      'node_cpu_seconds_total{mode!~"idle|iowait", cpu="0",}',
      [name('node_cpu_seconds_total'), { name: 'mode', op: '!~', value: 'idle|iowait' }, { name: 'cpu', op: '=', value: '0' }],
    ],
    ['job:http_requests:rate5m', [name('job:http_requests:rate5m')]],
    [':leading_colon', [name(':leading_colon')]],
    ['up{}', [name('up')]],
    ['up {job="a"}', [name('up'), { name: 'job', op: '=', value: 'a' }]],
    [
      ' \t\n up \n{ \t job \n= "a" ,\r\n env != "b" , } \n',
      [name('up'), { name: 'job', op: '=', value: 'a' }, { name: 'env', op: '!=', value: 'b' }],
    ],
    ['up{path="a\\"b\\\\c\\n\\t"}', [name('up'), { name: 'path', op: '=', value: 'a"b\\c\n\t' }]],
    ['up{v="\\a\\b\\f\\r\\v"}', [name('up'), { name: 'v', op: '=', value: '\x07\b\f\r\v' }]],
    ['up{v="\\u00e9\\U0001F600"}', [name('up'), { name: 'v', op: '=', value: 'é😀' }]],
    ['up{v="\\x41\\101\\xe2\\x88\\x9e"}', [name('up'), { name: 'v', op: '=', value: 'AA∞' }]],
    ['up{city="Zürich 🏔"}', [name('up'), { name: 'city', op: '=', value: 'Zürich 🏔' }]],
    [
      "up{job='node', msg='it\\'s \"fine\"'}",
      [name('up'), { name: 'job', op: '=', value: 'node' }, { name: 'msg', op: '=', value: 'it\'s "fine"' }],
    ],
    ['up{path=~`C:\\temp\\d+`}', [name('up'), { name: 'path', op: '=~', value: 'C:\\temp\\d+' }]],
    ['up{note=`two\nlines "quoted"`}', [name('up'), { name: 'note', op: '=', value: 'two\nlines "quoted"' }]],
    ['{job=~".+"}', [{ name: 'job', op: '=~', value: '.+' }]],
    ['{job=~".*", env="prod"}', [{ name: 'job', op: '=~', value: '.*' }, { name: 'env', op: '=', value: 'prod' }]],
    ['{job!~""}', [{ name: 'job', op: '!~', value: '' }]],
    ['{__name__="up"}', [name('up')]],
    ['{"http.server.duration", "service.name"="api"}', [name('http.server.duration'), { name: 'service.name', op: '=', value: 'api' }]],
    ['sum{job="x"}', [name('sum'), { name: 'job', op: '=', value: 'x' }]],
    ['up # comment\n{job="a"} # another', [name('up'), { name: 'job', op: '=', value: 'a' }]],
    ['up{job=~"(?i)NODE|api"}', [name('up'), { name: 'job', op: '=~', value: '(?i)NODE|api' }]],
  ];

  it.each(cases)('%j', (text, matchers) => {
    expect(parseSeriesSelector(text)).toEqual({ ok: true, selector: { matchers } });
  });
});

describe('parseSeriesSelector: invalid selectors', () => {
  const cases: Array<[string, string]> = [
    ['', '1:1: empty selector: expected a metric name or "{"'],
    ['   ', '1:4: empty selector: expected a metric name or "{"'],
    ['up{job="node}', '1:8: unterminated quoted string'],
    ['up{job="no\nde"}', '1:8: unterminated quoted string (write a newline as \\n)'],
    ["up{job='node}", '1:8: unterminated quoted string'],
    ['up{job=`node}', '1:8: unterminated raw string'],
    ['up{job "node"}', '1:8: expected "=", "!=", "=~" or "!~" after label name "job"'],
    ['up{job}', '1:7: expected "=", "!=", "=~" or "!~" after label name "job"'],
    ['up{\n  job "node"}', '2:7: expected "=", "!=", "=~" or "!~" after label name "job"'],
    ['up{job=node}', '1:8: expected a quoted value for label "job" after "=", found "n"'],
    ['up{job=="node"}', '1:8: expected a quoted value for label "job" after "=", found "="'],
    ['up{job="a" env="b"}', '1:12: expected "," or "}" after a matcher, found "e"'],
    ['up{job="a"', '1:11: unexpected end of input: expected "," or "}"'],
    ['up{', '1:4: unexpected end of input: expected a label name or "}"'],
    ['up{,}', '1:4: expected a label name or "}", found ","'],
    ['up{job="a",,}', '1:12: expected a label name or "}", found ","'],
    ['{}', `1:1: ${EMPTY}`],
    ['  {job=~".*"}', `1:3: ${EMPTY}`],
    ['{job=""}', `1:1: ${EMPTY}`],
    ['{job!="a"}', `1:1: ${EMPTY}`],
    ['{job!~".+", env=~"prod|"}', `1:1: ${EMPTY}`],
    ['{1job="x"}', '1:2: invalid label name "1job": names match [a-zA-Z_][a-zA-Z0-9_]*, quote any other ({"1job"="..."})'],
    ['{job.name="x"}', '1:2: invalid label name "job.name": names match [a-zA-Z_][a-zA-Z0-9_]*, quote any other ({"job.name"="..."})'],
    ['up{""="x"}', '1:4: label name must not be empty'],
    ['{job=~"a(b"}', '1:7: invalid regex "a(b" for label "job": missing closing ): "a(b"'],
    ['{job=~"[z-a]"}', '1:7: invalid regex "[z-a]" for label "job": invalid character class range: z-a'],
    ['{job=~"x{1001}"}', '1:7: invalid regex "x{1001}" for label "job": invalid repeat count {1001} (RE2 allows at most 1000)'],
    ['{job=~"(?=a)a"}', '1:7: invalid regex "(?=a)a" for label "job": lookahead (?=...) is not supported (RE2 has no lookarounds)'],
    ['{job!~"(?!a)b"}', '1:7: invalid regex "(?!a)b" for label "job": lookahead (?!...) is not supported (RE2 has no lookarounds)'],
    ['{job=~"(?<=a)b"}', '1:7: invalid regex "(?<=a)b" for label "job": lookbehind (?<=...) is not supported (RE2 has no lookarounds)'],
    ['{job=~"(a)\\\\1"}', '1:7: invalid regex "(a)\\\\1" for label "job": backreferences (\\1) are not supported by RE2'],
    ['up{job="a\\.b"}', '1:10: unknown escape sequence "\\\\." (write \\\\ for a backslash, or use a `raw` string)'],
    ['up{job="\\xZZ"}', '1:11: illegal character "Z" in escape sequence'],
    ['up{job="\\uD800"}', '1:9: escape sequence is an invalid Unicode code point'],
    ['up{job="\\xff"}', '1:8: byte escapes (\\x.., \\ooo) in this string do not form valid UTF-8'],
    ['foo{__name__="bar"}', '1:5: metric name must not be set twice: "foo" or "bar"'],
    ['foo{"bar"}', '1:5: metric name must not be set twice: "foo" or "bar"'],
    ['on{job="x"}', '1:1: metric name "on" is a PromQL keyword; select it with {__name__="on"}'],
    ['up{job="x"} offset 5m', '1:13: unexpected "o" after "}"; expected end of input'],
    ['up[5m]', '1:3: unexpected "[" after metric name "up"; expected "{" or end of input'],
    ['rate(up[5m])', '1:5: unexpected "(" after metric name "rate"; expected "{" or end of input'],
    ['1up', '1:1: expected a metric name or "{", found "1"'],
    ['🏔{a="b"}', '1:1: expected a metric name or "{", found "🏔"'],
    ['up{a="🏔" b="c"}', '1:10: expected "," or "}" after a matcher, found "b"'],
  ];

  it.each(cases)('%j', (text, detail) => {
    expect(parseSeriesSelector(text)).toEqual({ ok: false, detail });
  });
});

describe('compileMatcherRegex', () => {
  const accepted: Array<[string, string]> = [
    ['node_.*', '^(?:node_.*)$'],
    ['idle|iowait', '^(?:idle|iowait)$'],
    ['', '^(?:)$'],
    ['(?i)abc', '^(?:(?i)abc)$'],
    ['\\Qa.b', '^(?:\\Qa.b\\E)$'],
    ['\\Qa)b\\E|c', '^(?:\\Qa)b\\E|c)$'],
    ['[[:alpha:]]+\\d{2,3}', '^(?:[[:alpha:]]+\\d{2,3})$'],
    ['\\pL\\p{Greek}\\P{^N}', '^(?:\\pL\\p{Greek}\\P{^N})$'],
    ['a{,2}', '^(?:a{,2})$'],
    ['\\x{1F600}\\x41\\101', '^(?:\\x{1F600}\\x41\\101)$'],
    ['(?P<name>a)(?:b)', '^(?:(?P<name>a)(?:b))$'],
    ['\\-\\_\\:\\/', '^(?:\\-\\_\\:\\/)$'],
    // Non-ASCII as \x{..} (ClickHouse misses quantified multibyte characters), also in
    // classes, around quotes, and astral characters whole.
    ['éé?', '^(?:\\x{e9}\\x{e9}?)$'],
    ['[é-ü]+Ω', '^(?:[\\x{e9}-\\x{fc}]+\\x{3a9})$'],
    ['\\Qaé.\\E😀*', '^(?:\\Qa\\E\\x{e9}\\Q.\\E\\x{1f600}*)$'],
    ['\\Qé', '^(?:\\Q\\E\\x{e9}\\Q\\E)$'],
  ];
  it.each(accepted)('accepts %j', (value, source) => {
    expect(compileMatcherRegex(value)).toEqual({ ok: true, source });
  });

  const refused: Array<[string, string]> = [
    ['(a)\\1', 'backreferences (\\1) are not supported by RE2'],
    ['(?P<n>a)\\k<n>', 'backreferences (\\k<name>) are not supported by RE2'],
    ['(?P<n>a)(?P=n)', 'backreferences (?P=name) are not supported by RE2'],
    ['a(?=b)', 'lookahead (?=...) is not supported (RE2 has no lookarounds)'],
    ['a(?!b)', 'lookahead (?!...) is not supported (RE2 has no lookarounds)'],
    ['(?<=a)b', 'lookbehind (?<=...) is not supported (RE2 has no lookarounds)'],
    ['(?<!a)b', 'lookbehind (?<!...) is not supported (RE2 has no lookarounds)'],
    ['(?>a)', 'invalid or unsupported Perl syntax: "(?>"'],
    ['a)', 'unexpected ): "a)"'],
    ['(a', 'missing closing ): "(a"'],
    ['[a', 'missing closing ]: "[a"'],
    ['a**', 'invalid nested repetition operator: "*"'],
    ['a*+', 'invalid nested repetition operator: "+"'],
    ['*a', 'missing argument to repetition operator: "*"'],
    ['a|?', 'missing argument to repetition operator: "?"'],
    ['a{3,2}', 'invalid repeat count {3,2} (RE2 allows at most 1000)'],
    ['(a{100}){100}', "repetition counts multiply past 1000, RE2's limit"],
    ['a\\', 'trailing backslash at end of expression'],
    ['\\Z', '\\Z is not supported by RE2; use \\z or $'],
    ['\\C', '\\C (any byte) is not supported'],
    ['\\q', 'invalid escape sequence \\q'],
    ['\\u0041', 'invalid escape sequence \\u'],
    ['[[:foo:]]', 'invalid character class range: [:foo:]'],
    ['\\p{Klingon}', 'unknown Unicode class \\p{Klingon}'],
    ['(?m)^a$', 'flags "(?m)" are not supported: only a leading (?i) and (?s) are'],
    ['a(?i)b', 'case-insensitive "(?i)" is supported only as a leading (?i)'],
    ['(?i:a)b', 'case-insensitive "(?i:" is supported only as a leading (?i)'],
    ['(?P<n>a)(?P<n>b)', 'duplicate capture group name "n"'],
  ];
  it.each(refused)('refuses %j', (value, reason) => {
    expect(compileMatcherRegex(value)).toEqual({ ok: false, detail: `invalid regex ${JSON.stringify(value)}: ${reason}` });
  });
});

describe('matchesSelector', () => {
  const cases: Array<[string, Record<string, string>, boolean]> = [
    // A missing label equals the empty string.
    ['up{env=""}', { __name__: 'up' }, true],
    ['up{env=""}', { __name__: 'up', env: 'prod' }, false],
    ['up{env!="prod"}', { __name__: 'up' }, true],
    ['up{env!~".+"}', { __name__: 'up' }, true],
    ['up{env=~".+"}', { __name__: 'up' }, false],
    ['up{env=~"prod|"}', { __name__: 'up' }, true],
    ['{env="prod"}', {}, false],
    // Regexes are anchored at both ends, around the whole alternation.
    ['{job=~"node"}', { job: 'node_exporter' }, false],
    ['{job=~"node"}', { job: 'my-node' }, false],
    ['{job=~"node.*"}', { job: 'node_exporter' }, true],
    ['{job=~"node|api"}', { job: 'api' }, true],
    ['{job=~"node|api"}', { job: 'apix' }, false],
    ['{job=~"node|api"}', { job: 'xnode' }, false],
    ['up{job!~"node|api"}', { __name__: 'up', job: 'apix' }, true],
    ['up{job!~"node|api"}', { __name__: 'up', job: 'api' }, false],
    // RE2 semantics mirrored in JS.
    ['{job=~"(?i)NODE"}', { job: 'Node' }, true],
    ['{v=~"a.b"}', { v: 'a\nb' }, true],
    ['{v=~"[[:digit:]]+"}', { v: '0123' }, true],
    ['{v=~"[[:^digit:]]+"}', { v: '0123' }, false],
    ['{v=~"\\\\Qa.b\\\\E"}', { v: 'axb' }, false],
    ['{v=~"\\\\Qa.b\\\\E"}', { v: 'a.b' }, true],
    ['{v=~"\\\\s"}', { v: '\v' }, false],
    ['{v=~"\\\\s"}', { v: '\t' }, true],
    ['{v=~"[\\\\d-z]+"}', { v: '1-z' }, true],
    ['{v=~"[]a]+"}', { v: ']a]' }, true],
    ['{v=~"a{,2}"}', { v: 'a{,2}' }, true],
    ['{v=~"\\\\x{1F600}"}', { v: '😀' }, true],
    ['{v=~"\\\\pL+"}', { v: 'Zürich' }, true],
    ['{v=~"\\\\p{Greek}+"}', { v: 'αβγ' }, true],
    ['{v=~"^a$"}', { v: 'a' }, true],
    ['{v=~"\\\\ba\\\\b"}', { v: 'a' }, true],
    // Every matcher must hold.
    ['up{job="a",env="b"}', { __name__: 'up', job: 'a', env: 'c' }, false],
    ['up{job="a",env="b"}', { __name__: 'up', job: 'a', env: 'b', extra: 'x' }, true],
  ];

  it.each(cases)('%j on %j is %s', (text, labels, expected) => {
    expect(matchesSelector(parse(text), labels)).toBe(expected);
  });

  it('does not treat inherited object properties as labels', () => {
    expect(matchesSelector(parse('up{toString="", constructor=""}'), { __name__: 'up' })).toBe(true);
  });

  it('throws AppError for a hand-built matcher with an invalid regex', () => {
    expect(() => matchesSelector({ matchers: [{ name: 'a', op: '=~', value: '(?=x)' }] }, {})).toThrow(/SERIES_SELECTOR_INVALID|lookahead/);
  });
});

describe('properties', () => {
  // Any UTF-16 unit, lone surrogates included: what a decoded query string can hold.
  const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 60 });
  const tokens = fc
    .array(
      fc.constantFrom('up', 'job', ':', '{', '}', '=', '!', '~', ',', '"', "'", '`', '\\', ' ', '\n', '#', '(', ')', '[', ']', '*', '?', '.', 'x{2}', '\\x', '\\u', '(?', '1', '🏔', '\ud800'),
      { maxLength: 30 },
    )
    .map((parts) => parts.join(''));

  it('parseSeriesSelector never throws and always names a position', () => {
    fc.assert(
      fc.property(fc.oneof(anyUnits, tokens, fc.string({ unit: 'binary' })), (text) => {
        const result = parseSeriesSelector(text);
        if (result.ok) expect(result.selector.matchers.length).toBeGreaterThan(0);
        else expect(result.detail).toMatch(/^\d+:\d+: \S/);
      }),
      { numRuns: 3000 },
    );
  });

  it('compileMatcherRegex never throws; what it accepts, matchesSelector can run', () => {
    fc.assert(
      fc.property(fc.oneof(anyUnits, tokens), fc.string(), (value, labelValue) => {
        const result = compileMatcherRegex(value);
        if (!result.ok) return;
        expect(result.source.startsWith('^(?:') && result.source.endsWith(')$')).toBe(true);
        expect(typeof matchesSelector({ matchers: [{ name: 'v', op: '=~', value }] }, { v: labelValue })).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('a quoted label value round-trips through the escapes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        expect(parse(`up{v=${JSON.stringify(value)}}`).matchers[1]).toEqual({ name: 'v', op: '=', value });
      }),
    );
  });

  it('an escaped literal regex matches exactly its own text', () => {
    const quote = (text: string): string => Array.from(text, (c) => (/^[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/.test(c) ? `\\${c}` : c)).join('');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (pattern, value) => {
        const selector: SeriesSelector = { matchers: [{ name: 'v', op: '=~', value: quote(pattern) }] };
        expect(matchesSelector(selector, { v: pattern })).toBe(true);
        expect(matchesSelector(selector, { v: value })).toBe(value === pattern);
      }),
    );
  });
});
