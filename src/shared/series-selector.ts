/**
 * Prometheus series selectors, as `match[]` of /api/v1/series and /api/v1/export takes them:
 * `up`, `up{job="node"}`, `{__name__=~"node_.*",instance!="a:9100"}`, Prometheus 3's quoted
 * names `{"service.name"="api"}`. Pure: no I/O, never throws on input.
 *
 * Regex values are RE2 (what Prometheus and ClickHouse's `match()` run). They are checked here
 * once, so the storage layer can pass `compileMatcherRegex(..).source` to ClickHouse unchanged,
 * and translated to an equivalent JS RegExp for `matchesSelector` and the non-empty rule.
 */
import { AppError } from './errors.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

export interface SeriesSelector {
  /** In text order; a metric name before `{` comes first as `__name__` `=`. */
  matchers: LabelMatcher[];
}

export type SeriesSelectorResult = { ok: true; selector: SeriesSelector } | { ok: false; detail: string };
export type MatcherRegexResult = { ok: true; source: string } | { ok: false; detail: string };

const METRIC_NAME_LABEL = '__name__';
/** Words PromQL lexes as keywords or numbers, so `on{...}` is not a selector; `{__name__="on"}` is. */
const RESERVED_METRIC_NAMES = new Set(['bool', 'on', 'ignoring', 'group_left', 'group_right', 'atan2', 'inf', 'nan']);
const EMPTY_SELECTOR = 'vector selector must contain at least one non-empty matcher (for every series: {__name__!=""})';

/**
 * Parses one selector. On failure `detail` is `line:column: problem` (both 1-based, columns in
 * code points), e.g. `1:8: expected "=", "!=", "=~" or "!~" after label name "job"`.
 * Enforces Prometheus' rules: at least one matcher that does not match the empty string, the
 * metric name set once, regexes valid RE2 (see `compileMatcherRegex`).
 */
export function parseSeriesSelector(text: string): SeriesSelectorResult {
  try {
    return { ok: true, selector: new SelectorParser(text).parse() };
  } catch (error) {
    if (error instanceof Failure) return { ok: false, detail: `${formatPosition(text, error.index)}: ${error.message}` };
    throw error;
  }
}

/**
 * Validates an RE2 regex for ClickHouse `match()` and returns it fully anchored, `^(?:value)$`,
 * as Prometheus anchors matchers. Refuses what RE2 cannot do (backreferences, lookarounds) and
 * what Vigil cannot mirror in JS (inline flags other than a leading `(?i)`), with the reason.
 */
export function compileMatcherRegex(value: string): MatcherRegexResult {
  const translated = translateRegex(value);
  if (!translated.ok) return { ok: false, detail: `invalid regex ${JSON.stringify(value)}: ${translated.reason}` };
  // An unterminated \Q would swallow the closing `)$` as literal text.
  return { ok: true, source: `^(?:${escapeNonAscii(value)}${translated.openQuote ? '\\E' : ''})$` };
}

/**
 * The same RE2 pattern with every non-ASCII character written as `\x{hex}`. ClickHouse's
 * RE2 wrapper misses matches when a multibyte character is quantified (chdb 26.x:
 * match('é', '^(?:éé?)$') = 0, where Prometheus matches); the escaped form matches right.
 * Inside \Q...\E escapes are literal text, so the quote is closed around each one.
 */
function escapeNonAscii(pattern: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < pattern.length; ) {
    const code = pattern.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    if (code > 0x7f) {
      const escaped = `\\x{${code.toString(16)}}`;
      out += quoted ? `\\E${escaped}\\Q` : escaped;
      i += width;
      continue;
    }
    if (pattern[i] === '\\') {
      const next = pattern[i + 1];
      if (quoted) {
        if (next === 'E') quoted = false;
        // Inside a quote a backslash not before E is itself literal: copy it alone.
        out += next === 'E' ? '\\E' : '\\';
        i += next === 'E' ? 2 : 1;
        continue;
      }
      if (next === 'Q') quoted = true;
      // An escape outside a quote: the backslash and what it escapes, together.
      const nextCode = pattern.codePointAt(i + 1);
      if (nextCode === undefined) {
        out += '\\';
        i += 1;
      } else {
        const nextWidth = nextCode > 0xffff ? 2 : 1;
        out += pattern.slice(i, i + 1 + nextWidth);
        i += 1 + nextWidth;
      }
      continue;
    }
    out += pattern[i];
    i += 1;
  }
  return out;
}

/**
 * True when a series with these labels is selected; a missing label equals "" (Prometheus).
 * Throws AppError SERIES_SELECTOR_INVALID for a hand-built matcher whose regex
 * `compileMatcherRegex` refuses (parsed selectors never have one).
 */
export function matchesSelector(selector: SeriesSelector, labels: Record<string, string>): boolean {
  return selector.matchers.every((matcher) => matchesValue(matcher, Object.hasOwn(labels, matcher.name) ? (labels[matcher.name] ?? '') : ''));
}

function matchesValue(matcher: LabelMatcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return regexFor(matcher.value).test(value);
    case '!~':
      return !regexFor(matcher.value).test(value);
  }
}

/** Compiled JS regexes by RE2 source; bounded because test suites feed many distinct values. */
const regexCache = new Map<string, RegExp>();
const REGEX_CACHE_LIMIT = 1000;

function regexFor(value: string): RegExp {
  const cached = regexCache.get(value);
  if (cached) return cached;
  const translated = translateRegex(value);
  if (!translated.ok) throw new AppError('SERIES_SELECTOR_INVALID', `invalid regex ${JSON.stringify(value)}: ${translated.reason}`);
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
  regexCache.set(value, translated.regex);
  return translated.regex;
}

// ---------------------------------------------------------------------------------------------
// Selector syntax (Prometheus' lexer rules: promql/parser/lex.go)

class Failure {
  constructor(
    readonly index: number,
    readonly message: string,
  ) {}
}

function fail(index: number, message: string): never {
  throw new Failure(index, message);
}

function formatPosition(text: string, index: number): string {
  let line = 1;
  let column = 1;
  for (let i = 0; i < index && i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x0a) {
      line++;
      column = 1;
    } else if (code < 0xdc00 || code > 0xdfff || i === 0 || !isHighSurrogate(text.charCodeAt(i - 1))) {
      column++;
    }
  }
  return `${line}:${column}`;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdfff;
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isAlpha = (c: string): boolean => c === '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isLabelNameChar = (c: string): boolean => isAlpha(c) || isDigit(c);
const isMetricNameChar = (c: string): boolean => isLabelNameChar(c) || c === ':';
const isQuote = (c: string): boolean => c === '"' || c === "'" || c === '`';
/** Ends a run of characters reported as one (bad) label name. */
const isNameDelimiter = (c: string): boolean => isSpace(c) || isQuote(c) || '=!~,{}#'.includes(c);

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

class SelectorParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): SeriesSelector {
    this.skipSpace();
    const start = this.pos;
    const matchers: LabelMatcher[] = [];
    const regexes = new Map<LabelMatcher, RegExp>();
    let metricName: string | undefined;

    const first = this.peek();
    if (isAlpha(first) || first === ':') {
      metricName = this.readWhile(isMetricNameChar);
      if (RESERVED_METRIC_NAMES.has(metricName.toLowerCase())) {
        fail(start, `metric name "${metricName}" is a PromQL keyword; select it with {__name__="${metricName}"}`);
      }
      matchers.push({ name: METRIC_NAME_LABEL, op: '=', value: metricName });
      this.skipSpace();
      if (!this.atEnd() && this.peek() !== '{') {
        fail(this.pos, `unexpected ${this.describe()} after metric name "${metricName}"; expected "{" or end of input`);
      }
    } else if (first !== '{') {
      fail(this.pos, this.atEnd() ? 'empty selector: expected a metric name or "{"' : `expected a metric name or "{", found ${this.describe()}`);
    }

    if (this.peek() === '{') {
      this.pos++;
      this.parseMatcherList(matchers, regexes, metricName);
      this.skipSpace();
      if (!this.atEnd()) fail(this.pos, `unexpected ${this.describe()} after "}"; expected end of input`);
    }

    const nonEmpty = matchers.some((m) => !matchesEmpty(m, regexes.get(m)));
    if (!nonEmpty) fail(start, EMPTY_SELECTOR);
    return { matchers };
  }

  private parseMatcherList(matchers: LabelMatcher[], regexes: Map<LabelMatcher, RegExp>, metricName: string | undefined): void {
    for (;;) {
      this.skipSpace();
      if (this.peek() === '}') {
        this.pos++;
        return;
      }
      const matcherStart = this.pos;
      const matcher = this.parseMatcher(regexes);
      if (metricName !== undefined && matcher.name === METRIC_NAME_LABEL) {
        fail(matcherStart, `metric name must not be set twice: ${JSON.stringify(metricName)} or ${JSON.stringify(matcher.value)}`);
      }
      matchers.push(matcher);
      this.skipSpace();
      if (this.peek() !== ',' && this.peek() !== '}') {
        fail(this.pos, this.atEnd() ? 'unexpected end of input: expected "," or "}"' : `expected "," or "}" after a matcher, found ${this.describe()}`);
      }
      if (this.text.charAt(this.pos++) === '}') return;
    }
  }

  private parseMatcher(regexes: Map<LabelMatcher, RegExp>): LabelMatcher {
    const nameStart = this.pos;
    const first = this.peek();
    let name: string;
    let quoted = false;
    if (isQuote(first)) {
      name = this.readString();
      quoted = true;
    } else if (isAlpha(first)) {
      name = this.readWhile(isLabelNameChar);
      if (!this.atEnd() && !isNameDelimiter(this.peek())) this.failBadLabelName(nameStart);
    } else if (this.atEnd()) {
      fail(this.pos, 'unexpected end of input: expected a label name or "}"');
    } else {
      this.failBadLabelName(nameStart);
    }

    this.skipSpace();
    const opStart = this.pos;
    const op = this.readOp();
    if (op === undefined) {
      // Prometheus 3: a bare quoted string inside braces is the metric name.
      if (quoted && (this.peek() === ',' || this.peek() === '}')) return { name: METRIC_NAME_LABEL, op: '=', value: name };
      fail(opStart, `expected "=", "!=", "=~" or "!~" after label name ${JSON.stringify(name)}`);
    }
    if (name === '') fail(nameStart, 'label name must not be empty');

    this.skipSpace();
    if (!isQuote(this.peek())) {
      const found = this.atEnd() ? 'end of input' : this.describe();
      fail(this.pos, `expected a quoted value for label ${JSON.stringify(name)} after "${op}", found ${found}`);
    }
    const valueStart = this.pos;
    const matcher: LabelMatcher = { name, op, value: this.readString() };
    if (op === '=~' || op === '!~') {
      const translated = translateRegex(matcher.value);
      if (!translated.ok) {
        fail(valueStart, `invalid regex ${JSON.stringify(matcher.value)} for label ${JSON.stringify(name)}: ${translated.reason}`);
      }
      regexes.set(matcher, translated.regex);
    }
    return matcher;
  }

  private failBadLabelName(start: number): never {
    let end = start;
    while (end < this.text.length && !isNameDelimiter(this.text.charAt(end))) end++;
    if (end === start) fail(start, `expected a label name or "}", found ${this.describe()}`);
    const bad = this.text.slice(start, end);
    fail(start, `invalid label name ${JSON.stringify(bad)}: names match [a-zA-Z_][a-zA-Z0-9_]*, quote any other ({${JSON.stringify(bad)}="..."})`);
  }

  private readOp(): MatchOp | undefined {
    const two = this.text.slice(this.pos, this.pos + 2);
    if (two === '=~' || two === '!=' || two === '!~') {
      this.pos += 2;
      return two;
    }
    if (two.startsWith('=')) {
      this.pos++;
      return '=';
    }
    return undefined;
  }

  /** A quoted string at `pos`, unescaped. Go's escapes; \x and octal escapes are UTF-8 bytes. */
  private readString(): string {
    const open = this.pos;
    const quote = this.text.charAt(open);
    this.pos++;
    if (quote === '`') {
      const close = this.text.indexOf('`', this.pos);
      if (close < 0) fail(open, 'unterminated raw string');
      const raw = this.text.slice(this.pos, close);
      this.checkUnicode(this.pos, raw);
      this.pos = close + 1;
      return raw;
    }

    let out = '';
    const bytes: number[] = [];
    const flushBytes = (): void => {
      if (bytes.length === 0) return;
      try {
        out += new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
      } catch {
        fail(open, 'byte escapes (\\x.., \\ooo) in this string do not form valid UTF-8');
      }
      bytes.length = 0;
    };

    for (;;) {
      if (this.atEnd()) fail(open, 'unterminated quoted string');
      const c = this.peekChar();
      if (c === '\n') fail(open, 'unterminated quoted string (write a newline as \\n)');
      if (c === quote) {
        flushBytes();
        this.pos++;
        return out;
      }
      if (c !== '\\') {
        if (isSurrogate(c.charCodeAt(0)) && c.length === 1) fail(this.pos, 'invalid UTF-8: unpaired surrogate');
        flushBytes();
        out += c;
        this.pos += c.length;
        continue;
      }
      const escapeStart = this.pos;
      this.pos++;
      if (this.atEnd()) fail(open, 'unterminated quoted string');
      const e = this.peekChar();
      this.pos += e.length;
      const simple = ESCAPES[e] ?? (e === quote ? quote : undefined);
      if (simple !== undefined) {
        flushBytes();
        out += simple;
      } else if (e >= '0' && e <= '7') {
        const byte = this.readDigits(2, 8, parseInt(e, 8));
        if (byte > 0xff) fail(escapeStart, 'octal escape sequence is above \\377');
        bytes.push(byte);
      } else if (e === 'x') {
        bytes.push(this.readDigits(2, 16, 0));
      } else if (e === 'u' || e === 'U') {
        const code = this.readDigits(e === 'u' ? 4 : 8, 16, 0);
        if (code > 0x10ffff || isSurrogate(code)) fail(escapeStart, 'escape sequence is an invalid Unicode code point');
        flushBytes();
        out += String.fromCodePoint(code);
      } else {
        fail(escapeStart, `unknown escape sequence ${JSON.stringify(`\\${e}`)} (write \\\\ for a backslash, or use a \`raw\` string)`);
      }
    }
  }

  private readDigits(count: number, base: number, initial: number): number {
    let value = initial;
    for (let i = 0; i < count; i++) {
      if (this.atEnd()) fail(this.pos, 'escape sequence not terminated');
      const c = this.peekChar();
      const digit = parseInt(c, base);
      if (c.length !== 1 || Number.isNaN(digit)) fail(this.pos, `illegal character ${JSON.stringify(c)} in escape sequence`);
      value = value * base + digit;
      this.pos++;
    }
    return value;
  }

  private checkUnicode(start: number, raw: string): void {
    for (let i = 0; i < raw.length; i++) {
      const code = raw.charCodeAt(i);
      if (isHighSurrogate(code) && i + 1 < raw.length && raw.charCodeAt(i + 1) >= 0xdc00 && raw.charCodeAt(i + 1) <= 0xdfff) i++;
      else if (isSurrogate(code)) fail(start + i, 'invalid UTF-8: unpaired surrogate');
    }
  }

  /** Whitespace and `#` comments to the end of the line, as PromQL allows between tokens. */
  private skipSpace(): void {
    while (!this.atEnd()) {
      const c = this.peek();
      if (isSpace(c)) this.pos++;
      else if (c === '#') {
        const newline = this.text.indexOf('\n', this.pos);
        this.pos = newline < 0 ? this.text.length : newline + 1;
      } else return;
    }
  }

  private readWhile(accept: (c: string) => boolean): string {
    const start = this.pos;
    while (!this.atEnd() && accept(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private peek(): string {
    return this.text.charAt(this.pos);
  }

  /** The whole code point at `pos` (one or two UTF-16 units). */
  private peekChar(): string {
    const code = this.text.codePointAt(this.pos);
    return code === undefined ? '' : String.fromCodePoint(code);
  }

  private describe(): string {
    return this.atEnd() ? 'end of input' : JSON.stringify(this.peekChar());
  }
}

function matchesEmpty(matcher: LabelMatcher, regex: RegExp | undefined): boolean {
  switch (matcher.op) {
    case '=':
      return matcher.value === '';
    case '!=':
      return matcher.value !== '';
    case '=~':
      return regex?.test('') ?? false;
    case '!~':
      return !(regex?.test('') ?? true);
  }
}

// ---------------------------------------------------------------------------------------------
// RE2 → JS. A single pass over the pattern that applies RE2's grammar (Go regexp/syntax with
// Perl flags, as Prometheus parses matchers) and emits a JS `u`-mode source with the same
// meaning. `.` matches newlines in both Prometheus 3 (DotNL) and ClickHouse's match(), hence
// the `s` flag.

type Translation = { ok: true; regex: RegExp; openQuote: boolean } | { ok: false; reason: string };
type Ranges = ReadonlyArray<readonly [number, number]>;

/** RE2's bound on a counted repetition, and on the product of nested ones. */
const MAX_REPEAT = 1000;
/** RE2 (Go) refuses deeper group nesting. */
const MAX_NESTING = 1000;
const MAX_CODE_POINT = 0x10ffff;

const PERL_CLASSES: Record<string, Ranges> = {
  d: [[0x30, 0x39]],
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
};

const POSIX_CLASSES: Record<string, Ranges> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

const GENERAL_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '),
);

class RegexFailure {
  constructor(readonly reason: string) {}
}

function refuse(reason: string): never {
  throw new RegexFailure(reason);
}

function translateRegex(pattern: string): Translation {
  try {
    const { source, ignoreCase, openQuote } = new Re2Translator(pattern).translate();
    try {
      return { ok: true, regex: new RegExp(`^(?:${source})$`, ignoreCase ? 'isu' : 'su'), openQuote };
    } catch (error) {
      return { ok: false, reason: `cannot be compiled: ${error instanceof Error ? error.message : String(error)}` };
    }
  } catch (error) {
    if (error instanceof RegexFailure) return { ok: false, reason: error.reason };
    throw error;
  }
}

const negate = (ranges: Ranges): Ranges => {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
};

const classAtom = (code: number): string => {
  const c = String.fromCodePoint(code);
  return '\\]^-['.includes(c) ? `\\${c}` : c;
};

const classBody = (ranges: Ranges): string => ranges.map(([lo, hi]) => (lo === hi ? classAtom(lo) : `${classAtom(lo)}-${classAtom(hi)}`)).join('');

const literal = (code: number): string => {
  const c = String.fromCodePoint(code);
  return '^$\\.*+?()[]{}|/'.includes(c) ? `\\${c}` : c;
};

const REGEX_CHAR_ESCAPES: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };

const isOctal = (c: string | undefined): c is string => c !== undefined && c >= '0' && c <= '7';
const isAsciiAlnum = (c: string): boolean => /^[0-9A-Za-z]$/.test(c);

class Re2Translator {
  private readonly chars: string[];
  private i = 0;
  private out = '';
  private ignoreCase = false;
  private openQuote = false;
  /** One frame per open group: the largest product of counted repetitions inside it. */
  private readonly frames: number[] = [1];
  /** Repetition product inside the last atom; undefined when there is nothing to repeat. */
  private atom: number | undefined;
  private lastWasRepeat = false;
  private readonly groupNames = new Set<string>();
  /** Next `:]` at or after the last search, so `[[:[[:[[:...` stays linear. */
  private posixEnd = -1;

  constructor(private readonly pattern: string) {
    this.chars = Array.from(pattern);
  }

  translate(): { source: string; ignoreCase: boolean; openQuote: boolean } {
    for (const c of this.chars) if (c.length === 1 && isSurrogate(c.charCodeAt(0))) refuse('invalid UTF-8: unpaired surrogate');
    while (this.i < this.chars.length) this.step();
    if (this.frames.length > 1) refuse(`missing closing ): ${JSON.stringify(this.pattern)}`);
    return { source: this.out, ignoreCase: this.ignoreCase, openQuote: this.openQuote };
  }

  private step(): void {
    const c = this.next();
    switch (c) {
      case '(':
        return this.openGroup();
      case ')':
        return this.closeGroup();
      case '|':
        this.out += '|';
        return this.setAtom(undefined);
      case '*':
      case '+':
      case '?':
        return this.repeat(c, 1);
      case '{':
        return this.countedRepeat();
      case '[':
        this.out += this.parseClass();
        return this.setAtom(1);
      case '.':
        this.out += '.';
        return this.setAtom(1);
      case '^':
      case '$':
        // Wrapped so that a following quantifier (RE2 accepts `^*`) stays valid JS.
        this.out += `(?:${c})`;
        return this.setAtom(1);
      case '\\':
        return this.escape();
      default:
        this.out += literal(c.codePointAt(0) ?? 0);
        return this.setAtom(1);
    }
  }

  private next(): string {
    return this.chars[this.i++] ?? '';
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.i + offset];
  }

  private setAtom(product: number | undefined): void {
    this.atom = product;
    this.lastWasRepeat = false;
  }

  private openGroup(): void {
    if (this.frames.length > MAX_NESTING) refuse('expression nests too deeply');
    if (this.peek() !== '?') {
      this.out += '(';
      return this.pushFrame();
    }
    const start = this.i - 1;
    this.i++;
    const a = this.peek();
    const b = this.peek(1);
    if (a === '=' || a === '!') refuse(`lookahead (?${a}...) is not supported (RE2 has no lookarounds)`);
    if (a === '<' && (b === '=' || b === '!')) refuse(`lookbehind (?<${b}...) is not supported (RE2 has no lookarounds)`);
    if (a === 'P' && b === '=') refuse('backreferences (?P=name) are not supported by RE2');
    if (a === '<' || (a === 'P' && b === '<')) {
      this.i += a === 'P' ? 2 : 1;
      let name = '';
      while (this.peek() !== undefined && this.peek() !== '>') name += this.next();
      if (this.next() !== '>' || !/^[A-Za-z0-9_]+$/.test(name)) refuse(`invalid named capture: ${JSON.stringify(this.chars.slice(start, this.i).join(''))}`);
      if (this.groupNames.has(name)) refuse(`duplicate capture group name ${JSON.stringify(name)}`);
      this.groupNames.add(name);
      this.out += '(';
      return this.pushFrame();
    }
    // Flags: (?flags) or (?flags:...), flags from [imsU] with at most one '-'.
    let flags = '';
    while (this.peek() !== undefined && 'imsU-'.includes(this.peek() ?? '')) flags += this.next();
    const end = this.next();
    const text = this.chars.slice(start, this.i).join('');
    const [on = '', off] = flags.split('-');
    if ((end !== ')' && end !== ':') || flags.split('-').length > 2 || off === '' || (flags === '' && end === ')')) {
      refuse(`invalid or unsupported Perl syntax: ${JSON.stringify(text)}`);
    }
    if (off !== undefined || /[mU]/.test(on)) refuse(`flags ${JSON.stringify(text)} are not supported: only a leading (?i) and (?s) are`);
    if (on.includes('i') && !(start === 0 && end === ')')) refuse(`case-insensitive ${JSON.stringify(text)} is supported only as a leading (?i)`);
    if (on.includes('i')) this.ignoreCase = true;
    // `s` is already on (dot matches newline), so it needs no output.
    if (end === ':') {
      this.out += '(?:';
      return this.pushFrame();
    }
    this.setAtom(undefined);
  }

  private pushFrame(): void {
    this.frames.push(1);
    this.setAtom(undefined);
  }

  private closeGroup(): void {
    if (this.frames.length === 1) refuse(`unexpected ): ${JSON.stringify(this.pattern)}`);
    const inner = this.frames.pop() ?? 1;
    this.out += ')';
    this.setAtom(inner);
  }

  /** `{n}`, `{n,}` or `{n,m}` after the `{`; anything else (`{,2}`, `{01}`) is a literal `{` in RE2. */
  private countedRepeat(): void {
    let j = this.i;
    const digits = (): string => {
      let run = '';
      while (/^[0-9]$/.test(this.chars[j] ?? '')) run += this.chars[j++];
      return run;
    };
    const valid = (run: string): boolean => run !== '' && !(run.length > 1 && run.startsWith('0'));
    const minText = digits();
    let maxText = minText;
    if (this.chars[j] === ',') {
      j++;
      maxText = digits();
      if (maxText !== '' && !valid(maxText)) maxText = 'x';
    }
    if (!valid(minText) || maxText === 'x' || this.chars[j] !== '}') {
      this.out += '\\{';
      return this.setAtom(1);
    }
    const text = `{${this.chars.slice(this.i, j + 1).join('')}`;
    this.i = j + 1;
    const min = Number(minText);
    const max = maxText === '' ? -1 : Number(maxText);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && max < min)) refuse(`invalid repeat count ${text} (RE2 allows at most ${MAX_REPEAT})`);
    this.repeat(text, Math.max(1, max < 0 ? min : max));
  }

  private repeat(operator: string, count: number): void {
    if (this.atom === undefined) refuse(`missing argument to repetition operator: ${JSON.stringify(operator)}`);
    if (this.lastWasRepeat) refuse(`invalid nested repetition operator: ${JSON.stringify(operator)}`);
    const product = this.atom * count;
    if (product > MAX_REPEAT) refuse(`repetition counts multiply past ${MAX_REPEAT}, RE2's limit`);
    const frame = this.frames.length - 1;
    this.frames[frame] = Math.max(this.frames[frame] ?? 1, product);
    this.out += operator;
    if (this.peek() === '?') this.out += this.next();
    this.atom = product;
    this.lastWasRepeat = true;
  }

  private escape(): void {
    if (this.i >= this.chars.length) refuse('trailing backslash at end of expression');
    const c = this.next();
    const perl = PERL_CLASSES[c.toLowerCase()];
    if (perl && /[dswDSW]/.test(c)) {
      this.out += `[${classBody(c === c.toLowerCase() ? perl : negate(perl))}]`;
      return this.setAtom(1);
    }
    switch (c) {
      case 'p':
      case 'P':
        this.out += this.unicodeClass(c);
        return this.setAtom(1);
      case 'b':
      case 'B':
        this.out += `(?:\\${c})`;
        return this.setAtom(1);
      case 'A':
        this.out += '(?:^)';
        return this.setAtom(1);
      case 'z':
        this.out += '(?:$)';
        return this.setAtom(1);
      case 'Z':
        return refuse('\\Z is not supported by RE2; use \\z or $');
      case 'C':
        return refuse('\\C (any byte) is not supported');
      case 'k':
        return refuse('backreferences (\\k<name>) are not supported by RE2');
      case 'Q':
        return this.quoted();
    }
    if (c >= '1' && c <= '9' && !(c <= '7' && isOctal(this.peek()))) refuse(`backreferences (\\${c}) are not supported by RE2`);
    this.out += literal(this.escapedChar(c));
    this.setAtom(1);
  }

  /** \Q...\E: literal text; RE2 lets an unterminated \Q run to the end. */
  private quoted(): void {
    while (this.i < this.chars.length) {
      if (this.peek() === '\\' && this.peek(1) === 'E') {
        this.i += 2;
        return;
      }
      this.out += literal(this.next().codePointAt(0) ?? 0);
      this.setAtom(1);
    }
    this.openQuote = true;
  }

  /** The code point of an escape RE2 allows both in and out of classes; `c` follows the `\`. */
  private escapedChar(c: string): number {
    if (c >= '0' && c <= '7' && (c === '0' || isOctal(this.peek()))) {
      let value = Number(c);
      for (let n = 1; n < 3 && isOctal(this.peek()); n++) value = value * 8 + Number(this.next());
      return value;
    }
    if (c === 'x') {
      if (this.peek() === '{') {
        this.i++;
        let hex = '';
        while (this.peek() !== undefined && this.peek() !== '}') hex += this.next();
        if (this.next() !== '}' || !/^[0-9A-Fa-f]+$/.test(hex) || parseInt(hex, 16) > MAX_CODE_POINT) refuse(`invalid escape sequence \\x{${hex}`);
        return parseInt(hex, 16);
      }
      const hex = `${this.next()}${this.next()}`;
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) refuse(`invalid escape sequence \\x${hex}`);
      return parseInt(hex, 16);
    }
    const simple = REGEX_CHAR_ESCAPES[c];
    if (simple !== undefined) return simple;
    const code = c.codePointAt(0) ?? 0;
    if (code < 0x80 && !isAsciiAlnum(c)) return code;
    return refuse(`invalid escape sequence \\${c}`);
  }

  private unicodeClass(kind: 'p' | 'P'): string {
    let name: string;
    if (this.peek() === '{') {
      this.i++;
      name = '';
      while (this.peek() !== undefined && this.peek() !== '}') name += this.next();
      if (this.next() !== '}') refuse(`invalid character class range: \\${kind}{${name}`);
    } else {
      name = this.next();
      if (name === '') refuse(`invalid character class range: \\${kind}`);
    }
    let negated = kind === 'P';
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const property = name === 'Any' || GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
    try {
      new RegExp(`\\p{${property}}`, 'u');
    } catch {
      refuse(`unknown Unicode class \\p{${name}}`);
    }
    return `\\${negated ? 'P' : 'p'}{${property}}`;
  }

  private parseClass(): string {
    const start = this.i - 1;
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.i++;
    }
    let body = '';
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) refuse(`missing closing ]: ${JSON.stringify(this.chars.slice(start).join(''))}`);
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[' && this.peek(1) === ':') {
        const posix = this.posixClass();
        if (posix !== undefined) {
          body += posix;
          continue;
        }
      }
      const d = this.peek(1);
      if (c === '\\' && d !== undefined && /[dswDSW]/.test(d)) {
        this.i += 2;
        const perl = PERL_CLASSES[d.toLowerCase()] ?? [];
        body += classBody(d === d.toLowerCase() ? perl : negate(perl));
        continue;
      }
      if (c === '\\' && (d === 'p' || d === 'P')) {
        this.i += 2;
        body += this.unicodeClass(d);
        continue;
      }
      const lo = this.classChar();
      if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
        this.i++;
        const hi = this.classChar();
        if (hi < lo) refuse(`invalid character class range: ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`);
        body += classBody([[lo, hi]]);
      } else {
        body += classAtom(lo);
      }
    }
    return `[${negated ? '^' : ''}${body}]`;
  }

  /** `[:name:]` or `[:^name:]` at `i`; undefined when no `:]` follows (then `[` is literal), as in RE2. */
  private posixClass(): string | undefined {
    if (this.posixEnd < this.i + 2) {
      let end = this.i + 2;
      while (end + 1 < this.chars.length && !(this.chars[end] === ':' && this.chars[end + 1] === ']')) end++;
      this.posixEnd = end;
    }
    const end = this.posixEnd;
    if (end + 1 >= this.chars.length) return undefined;
    const text = this.chars.slice(this.i, end + 2).join('');
    const negated = text.startsWith('[:^');
    const ranges = POSIX_CLASSES[text.slice(negated ? 3 : 2, -2)];
    if (!ranges || !Object.hasOwn(POSIX_CLASSES, text.slice(negated ? 3 : 2, -2))) refuse(`invalid character class range: ${text}`);
    this.i = end + 2;
    return classBody(negated ? negate(ranges) : ranges);
  }

  private classChar(): number {
    const c = this.next();
    if (c !== '\\') return c.codePointAt(0) ?? 0;
    if (this.i >= this.chars.length) refuse('trailing backslash at end of expression');
    return this.escapedChar(this.next());
  }
}
