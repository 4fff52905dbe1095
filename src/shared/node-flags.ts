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
 *
 * --initial-old-space-size=256: V8 starts with an old-generation limit of a few MB and raises
 * it one full mark-compact at a time. As load starts, the heap grows from its start-up size
 * (~9 MB) to its working size (~25 MB under ingest) through 7-8 mark-compacts in about a
 * second, each marking the whole heap. Starting the limit at 256 MB (a bound, not an
 * allocation: the heap still grows as it needs) removed them: 2 M remote-write samples into a
 * fresh process, 4 pairs, 3.7 -> 3.1, 3.7 -> 3.4, 4.5 -> 4.3, 5.9 -> 4.6 CPU-s; over 10 M samples
 * the difference fades (4 mark-compacts against none, the same CPU). Vigil's live heap stays
 * far below it (tens of MB; ~150 MB with 100k alerts held).
 */
export const VIGIL_NODE_FLAGS: readonly string[] = ['--no-memory-reducer', '--initial-old-space-size=256'];

/** The recommended flags this process was started without. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return VIGIL_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
