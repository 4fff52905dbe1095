import { OtlpPayloadError } from './otlp-model.js';

/*
 * Typed readers for OTLP/JSON fields (proto3 JSON as amended by the OTLP spec: int64 and fixed64
 * as decimal strings or numbers, enums as integers, bytes as base64). `null` and a missing key
 * both mean the proto3 default. Each reader throws OtlpPayloadError naming the path.
 */

export type JsonObject = Record<string, unknown>;

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT32_MAX = 0xffffffff;
const DECIMAL_UINT = /^[0-9]+$/;
const DECIMAL_INT = /^-?[0-9]+$/;
const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
/** proto3 JSON spells the non-finite doubles as these strings. */
const SPECIAL_DOUBLES: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function fail(path: string, expected: string, value: unknown): never {
  throw new OtlpPayloadError(`${path}: expected ${expected}, got ${describe(value)}`);
}

export function objectField(value: unknown, path: string): JsonObject {
  if (!isJsonObject(value)) fail(path, 'an object', value);
  return value;
}

/** A message field that may be absent (undefined when missing or null). */
export function optionalObjectField(value: unknown, path: string): JsonObject | undefined {
  return isAbsent(value) ? undefined : objectField(value, path);
}

export function arrayField(value: unknown, path: string): unknown[] {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value)) fail(path, 'an array', value);
  return value;
}

export function stringField(value: unknown, path: string): string {
  if (isAbsent(value)) return '';
  if (typeof value !== 'string') fail(path, 'a string', value);
  return value;
}

export function boolField(value: unknown, path: string): boolean {
  if (isAbsent(value)) return false;
  if (typeof value !== 'boolean') fail(path, 'a boolean', value);
  return value;
}

/** fixed64/uint64: a decimal string or a non-negative integer number. */
export function uint64Field(value: unknown, path: string): bigint {
  if (isAbsent(value)) return 0n;
  const parsed = parseInteger(value, DECIMAL_UINT);
  if (parsed === undefined || parsed > UINT64_MAX || parsed < 0n) fail(path, 'an unsigned 64-bit integer (decimal string or number)', value);
  return parsed;
}

/** int64/sfixed64: a decimal string or an integer number. */
export function int64Field(value: unknown, path: string): bigint {
  if (isAbsent(value)) return 0n;
  const parsed = parseInteger(value, DECIMAL_INT);
  if (parsed === undefined || parsed > INT64_MAX || parsed < INT64_MIN) fail(path, 'a signed 64-bit integer (decimal string or number)', value);
  return parsed;
}

export function uint32Field(value: unknown, path: string): number {
  if (isAbsent(value)) return 0;
  const parsed = parseInteger(value, DECIMAL_UINT);
  if (parsed === undefined || parsed > BigInt(UINT32_MAX) || parsed < 0n) fail(path, 'an unsigned 32-bit integer', value);
  return Number(parsed);
}

/** A double: a number, a decimal string, or "NaN" / "Infinity" / "-Infinity". */
export function doubleField(value: unknown, path: string): number {
  if (isAbsent(value)) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    // Own keys only: "toString" or "constructor" would otherwise find Object.prototype's.
    const special = Object.hasOwn(SPECIAL_DOUBLES, value) ? SPECIAL_DOUBLES[value] : undefined;
    if (special !== undefined) return special;
    if (JSON_NUMBER.test(value)) return Number(value);
  }
  return fail(path, 'a number', value);
}

/** An enum: its integer (what OTLP/JSON requires) or, leniently, its name from `names`. */
export function enumField(value: unknown, path: string, names: readonly string[]): number {
  if (isAbsent(value)) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') {
    const index = names.indexOf(value);
    if (index >= 0) return index;
  }
  return fail(path, `an enum integer or one of ${names.join(', ')}`, value);
}

/** bytes: standard or URL-safe base64. */
export function bytesField(value: unknown, path: string): Uint8Array {
  if (isAbsent(value)) return new Uint8Array(0);
  if (typeof value !== 'string' || !BASE64.test(value)) fail(path, 'base64 bytes', value);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/**
 * Digits a 64-bit integer can have, with its sign: a longer string is out of range anyway, and
 * BigInt() of a 60-million-digit one held the event loop for 20 s (found in review).
 */
const MAX_INTEGER_STRING_LENGTH = 21;

function parseInteger(value: unknown, pattern: RegExp): bigint | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
  if (typeof value === 'string' && value.length <= MAX_INTEGER_STRING_LENGTH && pattern.test(value)) return BigInt(value);
  return undefined;
}
