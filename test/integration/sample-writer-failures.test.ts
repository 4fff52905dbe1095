import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createSeriesRegistry } from '../../src/ingest/series-registry.js';
import { createSampleWriter } from '../../src/storage/sample-writer.js';
import { sampleBatchOf, storedSamplesOf, useMigratedStore } from '../helpers/sample-writer.js';

// The write-ahead log where the disk fails or the process dies at its worst moments, on the
// real engine and real files. Only the folder fsync can be made to fail (an EIO), nothing else.
const dirSync = vi.hoisted(() => ({ fail: false }));
vi.mock('../../src/storage/journal-files.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/storage/journal-files.js')>();
  return {
    ...actual,
    fsyncDirectory: async (dir: string) => {
      if (dirSync.fail) throw new Error('injected EIO on a folder fsync');
      return actual.fsyncDirectory(dir);
    },
  };
});

const { dataDir, store } = useMigratedStore('vigil-sample-failures-');
const logger = pino({ level: 'silent' });
const registry = createSeriesRegistry();

const batchOf = (metric: string, values: number[]) => sampleBatchOf(registry, { __name__: metric }, values);
const writerAt = (walDir: string) => createSampleWriter({ store, walDir, maxBatchRows: 1_000_000, flushIntervalMs: 60_000, maxQueuedRows: 100_000, fsync: true, logger });
const samplesOf = (metric: string) => storedSamplesOf(store, metric);

describe('write-ahead log failures', () => {
  it('a commit refused because the folder fsync failed leaves none of its rows behind', async () => {
    const walDir = join(dataDir, 'wal-dirsync');
    const writer = writerAt(walDir);
    await writer.replay();
    dirSync.fail = true;
    await expect(writer.write(batchOf('dirsync_refused', [1, 2, 3, 4, 5]))).rejects.toThrow('injected EIO');
    dirSync.fail = false;
    // What a crash now would leave: the next process replays exactly the acknowledged rows, none.
    const files = readdirSync(join(walDir, 'pending')).filter((name) => name.endsWith('.samples.rb'));
    expect(files.map((name) => statSync(join(walDir, 'pending', name)).size)).toEqual([0]);
    const next = writerAt(walDir);
    expect((await next.replay()).rows).toBe(0);
    await next.close();
    expect(await samplesOf('dirsync_refused')).toBe(0);
  });

  it("replays a segment's series rows left behind by a crash between moving its two files into a batch", async () => {
    const walDir = join(dataDir, 'wal-move');
    const crashed = writerAt(walDir);
    await crashed.replay();
    await crashed.write(batchOf('moved_apart', [1, 2, 3]));
    // No close, no insert: then the state a SIGKILL between the two renames leaves behind.
    const pending = join(walDir, 'pending');
    const samples = readdirSync(pending).find((name) => name.endsWith('.samples.rb'))!;
    const batch = join(walDir, 'batch-000000000-crashed');
    mkdirSync(batch);
    renameSync(join(pending, samples), join(batch, samples));
    expect(readdirSync(pending).filter((name) => name.endsWith('.series.rb'))).toHaveLength(1);
    const next = writerAt(walDir);
    expect((await next.replay()).rows).toBe(3);
    await next.close();
    expect(await samplesOf('moved_apart')).toBe(3);
  });
});
