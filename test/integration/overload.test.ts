import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteWriteHeaders, snappyWriteRequest } from '../helpers/remote-write.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

// A queue of 1,000 rows, inserted at most every 60 s: the third 400-row request cannot fit.
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil({
    overrides: (c) => {
      c.writer.maxQueuedRows = 1_000;
      c.writer.maxBatchRows = 1_000_000;
      c.writer.flushIntervalMs = 60_000;
    },
  });
});
afterAll(async () => {
  await vigil?.stop();
});

const request = (n: number) =>
  snappyWriteRequest(Array.from({ length: 400 }, (_, i) => ({ labels: { __name__: 'overload_test', req: String(n), i: String(i) }, samples: [{ value: i, timestamp: Date.now() - 1000 }] })));

describe('a full write queue sheds load', () => {
  it('answers 503 with Retry-After (never 429) once the queue is full, and accepts again once drained', async () => {
    const post = (n: number) => fetch(`${vigil.url}/api/v1/write`, { method: 'POST', headers: remoteWriteHeaders, body: request(n) });
    expect((await post(1)).status).toBe(204);
    expect((await post(2)).status).toBe(204);
    const shed = await post(3);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await shed.json()).toMatchObject({ error: 'INGEST_OVERLOADED' });
    // A read waits for acknowledged rows to be inserted, which drains the queue.
    const exported = await fetch(`${vigil.url}/api/v1/series?match[]=overload_test`);
    expect(((await exported.json()) as { data: unknown[] }).data).toHaveLength(800);
    expect((await post(3)).status).toBe(204);
    const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_writer_rejected_total\{reason="overload"\} 1/);
    expect(metrics).toMatch(/vigil_ingest_requests_total\{protocol="prometheus",outcome="overloaded"\} 1/);
  });
});
