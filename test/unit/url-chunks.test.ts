// The client's own formatter (not exported from its package root): what it puts in the URL.
import { formatQueryParams } from '@clickhouse/client/dist/common/index.js';
import { describe, expect, it } from 'vitest';
import { chunksForUrl } from '../../src/storage/alerts.queries.js';

/** The parameter as @clickhouse/client puts it in a query's URL. */
const encodedParameter = (keys: readonly string[]) => new URLSearchParams([['param_fingerprints', formatQueryParams({ value: keys })]]).toString().length;

describe('chunksForUrl', () => {
  it('keeps every key, in order, in lists whose encoded size fits a server URL (1 MiB)', () => {
    const ascii = Array.from({ length: 3_000 }, (_, i) => `${i}-${'k'.repeat(250)}`);
    // A 255-character key of 3-byte characters encodes to 2,295 bytes: 1,000 of them were 2.3 MB.
    const wide = Array.from({ length: 1_000 }, (_, i) => `${i}${'€'.repeat(250)}'\\`);
    // Quotes are escaped, then encoded: 6 bytes each.
    const quotes = Array.from({ length: 3_000 }, (_, i) => `${i}${"'".repeat(250)}`);
    const parentheses = Array.from({ length: 3_000 }, (_, i) => `${i}${'(\t'.repeat(120)}`);
    for (const keys of [ascii, wide, quotes, parentheses]) {
      const chunks = chunksForUrl(keys, (k) => k);
      expect(chunks.flat()).toEqual(keys);
      for (const chunk of chunks) expect(encodedParameter(chunk)).toBeLessThan(1024 * 1024);
    }
    expect(chunksForUrl(wide, (k) => k).length).toBeGreaterThan(1);
    expect(chunksForUrl([], (k: string) => k)).toEqual([]);
  });
});
