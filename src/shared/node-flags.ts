/**
 * Node flags `vigil serve` should run with. The same list is written out in bin/vigil.mjs's
 * first line and package.json's `start` script (a unit test keeps them equal).
 *
 * --no-memory-reducer: after ~8 s of little allocation (start-up, a quiet spell) V8's memory
 * reducer shrinks the heap limit to just above the live heap. Under ingest load afterwards the
 * free room stays below the young generation's size, so V8 starts a full mark-compact again
 * as soon as one ends: measured 60-100 of them per 10 M samples instead of 2-8, a third more
 * CPU per sample and 25-30 % less throughput (2 cores, bench:ingest generator). Vigil's heap is
 * tens of MB; the reducer saves nothing worth that.
 */
export const VIGIL_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/** The recommended flags this process was started without. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return VIGIL_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
