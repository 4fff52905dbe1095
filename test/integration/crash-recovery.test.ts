import type { ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { remoteWriteHeaders, snappyWriteRequest } from '../helpers/remote-write.js';
import { makeDataDir } from '../helpers/vigil.js';
import { restartablePort, startVigilProcess, waitExit, waitReady } from '../helpers/vigil-process.js';

const dataDir = makeDataDir('vigil-crash-');
const port = await restartablePort();
const url = `http://127.0.0.1:${port}`;
let child: ChildProcess | null = null;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('crash: SIGKILL during concurrent writes', () => {
  it('keeps every acknowledged sample, once, after restart', async () => {
    child = startVigilProcess(dataDir, port);
    await waitReady(url);
    const acked = new Map<string, number>(); // "writer/ts" -> value
    const base = Date.now() - 3_600_000;
    let stop = false;
    const writer = async (w: number) => {
      for (let round = 0; !stop; round++) {
        const ts = base + round * 1000;
        // 200 series per request, each writer its own series: like a Prometheus shard.
        const series = Array.from({ length: 200 }, (_, i) => ({
          labels: { __name__: 'crash_test', writer: String(w), idx: String(i) },
          samples: [{ value: round * 1000 + i, timestamp: ts }],
        }));
        try {
          const response = await fetch(`${url}/api/v1/write`, { method: 'POST', headers: remoteWriteHeaders, body: snappyWriteRequest(series) });
          if (response.status === 204) for (let i = 0; i < 200; i++) acked.set(`${w}/${i}/${ts}`, round * 1000 + i);
        } catch {
          return; // the server is gone
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await new Promise((r) => setTimeout(r, 2500));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await waitExit(child!);
    expect(acked.size).toBeGreaterThan(1000);
    // The kill must have left acknowledged rows only in the write-ahead log, or replay went untested.
    const walDir = join(dataDir, 'wal');
    const leftOver = readdirSync(walDir).flatMap((d) => (d === 'pending' || d.startsWith('batch-') ? readdirSync(join(walDir, d)) : []));
    expect(leftOver.length).toBeGreaterThan(0);

    child = startVigilProcess(dataDir, port);
    await waitReady(url);
    const response = await fetch(`${url}/api/v1/export?${new URLSearchParams({ 'match[]': 'crash_test', start: '0' })}`);
    const lines = (await response.text()).trim().split('\n').map((l) => JSON.parse(l) as { metric: Record<string, string>; values: number[]; timestamps: number[] });
    const stored = new Map<string, number[]>();
    for (const line of lines) {
      line.timestamps.forEach((ts, i) => {
        const key = `${line.metric.writer}/${line.metric.idx}/${ts}`;
        stored.set(key, [...(stored.get(key) ?? []), line.values[i]!]);
      });
    }
    let missing = 0;
    let duplicated = 0;
    for (const [key, value] of acked) {
      const got = stored.get(key);
      if (!got || !got.includes(value)) missing++;
      else if (got.length > 1) duplicated++;
    }
    expect({ acknowledged: acked.size, missing, duplicated }).toEqual({ acknowledged: acked.size, missing: 0, duplicated: 0 });
    child.kill('SIGTERM');
    await waitExit(child!);
    child = null;
  }, 120_000);
});
