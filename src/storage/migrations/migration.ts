import type { DdlContext } from '../ddl.js';

/** A numbered schema change. Never edited after it lands: add a new one (and `_v2` tables). */
export interface Migration {
  version: number;
  name: string;
  /** Idempotent statements (IF NOT EXISTS), run in order. */
  statements(ctx: DdlContext): string[];
}
