import type { Store } from './store.js';

/** A listing as the API pages it: the rows of one page, and the number of all matches. */
export interface PageQuery {
  /** Names the two queries in errors and logs ("count …", "list …"). */
  name: string;
  /** Table expression, e.g. `alerts_v1 FINAL`. */
  from: string;
  /** Table expression the count reads instead, when the conditions need less than `from`. */
  countFrom?: string;
  columns: string;
  /** Conditions joined with AND; none: every row. */
  conditions: readonly string[];
  orderBy: string;
  /** Server-side parameters of the conditions, plus the page. */
  params: Record<string, unknown> & { limit: number; offset: number };
}

export async function queryPage<Row>(store: Store, query: PageQuery): Promise<{ rows: Row[]; total: number }> {
  const where = query.conditions.length > 0 ? query.conditions.join(' AND ') : '1';
  const [count] = await store.query<{ total: number | string }>(`count ${query.name}`, `SELECT count() AS total FROM ${query.countFrom ?? query.from} WHERE ${where}`, query.params);
  const rows = await store.query<Row>(
    `list ${query.name}`,
    `SELECT ${query.columns} FROM ${query.from} WHERE ${where} ORDER BY ${query.orderBy} LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
    query.params,
  );
  return { rows, total: Number(count?.total ?? 0) };
}
