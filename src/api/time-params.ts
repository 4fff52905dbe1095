import { AppError } from '../shared/errors.js';

/**
 * Parses a Prometheus API time: RFC 3339 or Unix seconds with optional decimals.
 * Returns ms since epoch; `fallback` when absent; throws a 400 naming the parameter.
 */
export function parseTimeParam(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined || value === '') return fallbackMs;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new AppError('REQUEST_INVALID', `${name}: ${JSON.stringify(value)} is neither RFC 3339 nor Unix seconds`, { httpStatus: 400 });
  }
  return ms;
}
