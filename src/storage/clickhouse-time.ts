/** A time as ClickHouse reads DateTime64(3, 'UTC') in JSONEachRow inserts: `2026-11-23 12:00:00.123`. */
export function toClickHouseDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
