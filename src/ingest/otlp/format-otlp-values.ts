import type { AnyValue } from './otlp-model.js';

/*
 * Label values from OTLP values, spelled the way Prometheus spells them so a series keeps the
 * same identity whichever of the two receives it: attribute values as pdata's `Value.AsString()`
 * (go.opentelemetry.io/collector/pdata/pcommon value.go), bucket bounds and quantiles as Go's
 * `strconv.FormatFloat(v, 'f', -1, 64)` (prometheusremotewrite/helper.go).
 */

/** Go `FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent (`le` and `quantile`). */
export function formatFloatPlain(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Object.is(value, -0)) return '-0';
  const text = String(value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (match === null) return text;
  const [, sign = '', lead = '', fraction = '', exponentText = '0'] = match;
  const digits = lead + fraction;
  const pointAt = 1 + Number(exponentText);
  if (pointAt <= 0) return `${sign}0.${'0'.repeat(-pointAt)}${digits}`;
  if (pointAt >= digits.length) return `${sign}${digits}${'0'.repeat(pointAt - digits.length)}`;
  return `${sign}${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
}

/** An attribute value as a label value (pcommon `AsString`): arrays and maps as compact JSON. */
export function formatAnyValue(value: AnyValue): string {
  switch (value.kind) {
    case 'string':
      return value.value;
    case 'bool':
      return value.value ? 'true' : 'false';
    case 'int':
      return value.value.toString();
    case 'double':
      return formatDouble(value.value);
    case 'bytes':
      return Buffer.from(value.value).toString('base64');
    case 'array':
    case 'kvlist':
      return toGoJson(value);
    case 'empty':
      return '';
  }
}

/**
 * Doubles as ES6 number-to-string (what pcommon does for finite values). pcommon renders
 * NaN and infinities as a JSON error text; Vigil writes them as Prometheus does in `le`.
 */
function formatDouble(value: number): string {
  if (!Number.isFinite(value)) return formatFloatPlain(value);
  return Object.is(value, -0) ? '-0' : String(value);
}

/** Go `json.Marshal` of pcommon `AsRaw()`: map keys sorted, bytes base64, HTML characters escaped. */
function toGoJson(value: AnyValue): string {
  switch (value.kind) {
    case 'string':
      return goJsonString(value.value);
    case 'bool':
      return value.value ? 'true' : 'false';
    case 'int':
      return value.value.toString();
    case 'double':
      // encoding/json refuses non-finite numbers; null keeps the rest of the value readable.
      return Number.isFinite(value.value) ? formatDouble(value.value) : 'null';
    case 'bytes':
      return goJsonString(Buffer.from(value.value).toString('base64'));
    case 'array':
      return `[${value.values.map(toGoJson).join(',')}]`;
    case 'kvlist': {
      // AsRaw builds a Go map, so a repeated key keeps its last value.
      const entries = new Map(value.values.map((kv) => [kv.key, kv.value]));
      const keys = [...entries.keys()].sort(compareUtf8);
      return `{${keys.map((key) => `${goJsonString(key)}:${toGoJson(entries.get(key) ?? { kind: 'empty' })}`).join(',')}}`;
    }
    case 'empty':
      return 'null';
  }
}

/** Go's encoder escapes <, >, & and the JavaScript line separators that JSON.stringify leaves alone. */
function goJsonString(text: string): string {
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go sorts strings by UTF-8 bytes, i.e. by code point; UTF-16 order differs only around surrogates. */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const left = a.charCodeAt(i);
    const right = b.charCodeAt(i);
    if (left !== right) return codePointRank(left) - codePointRank(right);
  }
  return a.length - b.length;
}

/** Moves surrogates (astral code points) above U+E000–U+FFFF, where code-point order puts them. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}
