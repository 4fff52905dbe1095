import type { Store } from './store.js';

/**
 * Group commit for small JSON-row tables (alerts, incidents): rows of concurrent callers go
 * into one insert per table; each caller's promise resolves once the insert holding its
 * rows has committed, and rejects (retryable upstream) if it failed. One flush at a time;
 * rows arriving meanwhile form the next one.
 */
export interface RowBatcher {
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  close(): Promise<void>;
}

interface Waiting {
  rows: Map<string, Record<string, unknown>[]>;
  callbacks: { resolve: () => void; reject: (error: unknown) => void }[];
}

export function createRowBatcher(store: Store): RowBatcher {
  let waiting: Waiting | null = null;
  let flushing: Promise<void> | null = null;

  function startFlush(): void {
    if (flushing || !waiting) return;
    const batch = waiting;
    waiting = null;
    flushing = (async () => {
      try {
        // Tables are independent: their inserts overlap (chdb runs queries off the event loop).
        await Promise.all([...batch.rows].map(([table, rows]) => store.insertRows(table, rows)));
        for (const c of batch.callbacks) c.resolve();
      } catch (error) {
        for (const c of batch.callbacks) c.reject(error);
      }
    })().finally(() => {
      flushing = null;
      startFlush();
    });
  }

  return {
    insert(table, rows) {
      if (rows.length === 0) return Promise.resolve();
      waiting ??= { rows: new Map(), callbacks: [] };
      const list = waiting.rows.get(table) ?? [];
      for (const row of rows) list.push(row);
      waiting.rows.set(table, list);
      const current = waiting;
      const done = new Promise<void>((resolve, reject) => current.callbacks.push({ resolve, reject }));
      // Let the other callers of this event-loop turn join the batch.
      setImmediate(startFlush);
      return done;
    },
    async close() {
      while (flushing || waiting) {
        startFlush();
        if (flushing) await flushing;
      }
    },
  };
}
