import { describe, expect, it } from 'vitest';
import { SAMPLE_ROW_STRUCTURE, SERIES_ROW_STRUCTURE } from '../../src/ingest/sample-batch.js';
import { ALERT_EVENT_LAYOUT } from '../../src/storage/alerts.queries.js';
import { columnNamesOf } from '../../src/storage/store.js';

// The column list of RowBinary inserts (both store modes): types hold commas of their own.
describe('columnNamesOf', () => {
  it('splits only at commas outside brackets and quotes', () => {
    expect(columnNamesOf(SERIES_ROW_STRUCTURE)).toEqual(['day', 'series_id', 'metric_name', 'labels', 'source']);
    expect(columnNamesOf(SAMPLE_ROW_STRUCTURE)).toEqual(['series_id', 'ts', 'value']);
    expect(columnNamesOf(ALERT_EVENT_LAYOUT.structure)).toEqual(ALERT_EVENT_LAYOUT.columns.map((c) => c.name));
    expect(columnNamesOf("a Enum8('x,y' = 1, 'z' = 2), b String")).toEqual(['a', 'b']);
  });

  it('refuses a name that is not an identifier', () => {
    expect(() => columnNamesOf('a String, b; DROP TABLE t String')).toThrow('is not an identifier');
  });
});
