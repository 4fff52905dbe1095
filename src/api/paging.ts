import { AppError } from '../shared/errors.js';

/** api.md: lists take `limit` (default 500, at most 100000) and `offset`. */
export const DEFAULT_LIMIT = 500;
export const MAX_LIMIT = 100_000;
export const MAX_OFFSET = 4_294_967_295;

/** Parses `limit` and `offset` of a list request; throws a 400 naming the bad one. */
export function parsePaging(query: { limit?: string; offset?: string }, defaults: { limit: number; maxLimit: number } = { limit: DEFAULT_LIMIT, maxLimit: MAX_LIMIT }): { limit: number; offset: number } {
  // Digits only: Number() would also take 1e3, 0x10 and padded spaces.
  const integer = (text: string) => (/^\d{1,15}$/.test(text) ? Number(text) : Number.NaN);
  const limit = query.limit === undefined ? defaults.limit : integer(query.limit);
  const offset = query.offset === undefined ? 0 : integer(query.offset);
  // Queries take offset as UInt32: a larger one would wrap around to an early page.
  if (!Number.isInteger(limit) || limit < 1 || limit > defaults.maxLimit) {
    throw new AppError('REQUEST_INVALID', `limit must be an integer from 1 to ${defaults.maxLimit}`, { httpStatus: 400 });
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) {
    throw new AppError('REQUEST_INVALID', `offset must be an integer from 0 to ${MAX_OFFSET}`, { httpStatus: 400 });
  }
  return { limit, offset };
}
