import { describe, expect, it } from 'vitest';
import { SAMPLE_ROW_BYTES, SAMPLE_ROW_LAYOUT, SERIES_ROW_LAYOUT } from '../../src/ingest/sample-batch.js';
import { ALERT_EVENT_LAYOUT } from '../../src/storage/alerts.queries.js';
import { column, completeRowsLength, rowBinaryLayout } from '../../src/storage/row-binary.js';
import { columnListOf } from '../../src/storage/store.js';

// The column list of RowBinary inserts (both store modes): the layout's columns, by name.
describe('columnListOf', () => {
  it('names the columns of a layout in their order', () => {
    expect(columnListOf(SERIES_ROW_LAYOUT)).toBe('day, series_id, metric_name, labels, source');
    expect(columnListOf(SAMPLE_ROW_LAYOUT)).toBe('series_id, ts, value');
    expect(columnListOf(ALERT_EVENT_LAYOUT)).toBe(ALERT_EVENT_LAYOUT.columns.map((c) => c.name).join(', '));
  });

  it('refuses a name that is not an identifier', () => {
    expect(() => columnListOf(rowBinaryLayout('bad', [column.string('a'), column.string('b; DROP TABLE t')]))).toThrow('is not an identifier');
  });
});

describe('SAMPLE_ROW_LAYOUT', () => {
  it('is SAMPLE_ROW_BYTES wide, as the writer lays samples out', () => {
    expect(completeRowsLength(Buffer.alloc(SAMPLE_ROW_BYTES * 3 + 5), SAMPLE_ROW_LAYOUT)).toBe(SAMPLE_ROW_BYTES * 3);
  });
});
