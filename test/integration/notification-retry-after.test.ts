import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/until.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

// A receiver that is rate-limiting (429 + Retry-After: 1) on its first request, as Slack does.
const arrivals: number[] = [];
let goneArrivals = 0;
let receiver: HttpReceiver;
let vigil: TestVigil;

beforeAll(async () => {
  receiver = await startReceiver((request, response) => {
    if (request.path === '/gone') {
      goneArrivals++;
      response.writeHead(404).end();
      return;
    }
    arrivals.push(Date.now());
    if (arrivals.length === 1) response.writeHead(429, { 'retry-after': '1' }).end();
    else response.writeHead(200).end('ok');
  });
  const base = receiver.url;
  vigil = await startTestVigil({
    overrides: (c) => {
      c.notifications = {
        routes: [
          { name: 'rate-limited', url: `${base}/hook`, format: 'slack', kinds: ['created'] },
          { name: 'gone', url: `${base}/gone`, format: 'json', kinds: ['created'] },
        ],
        maxAttempts: 3,
        retryBaseDelayMs: 20,
        timeoutMs: 1_000,
      };
    },
  });
});
afterAll(async () => {
  await vigil?.stop();
  await receiver?.close();
});

async function attemptsOf(route: string) {
  const page = (await (await fetch(`${vigil.url}/api/v1/notifications?limit=100`)).json()) as { attempts: { route: string; attempt: number; outcome: string; error: string; httpStatus: number }[] };
  return page.attempts.filter((a) => a.route === route).sort((a, b) => a.attempt - b.attempt);
}

describe('notification retries', () => {
  it("wait as long as the receiver's Retry-After asks, not just the backoff", async () => {
    const response = await fetch(`${vigil.url}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'LinkDown', device: 'sw-1' }, status: 'firing', severity: 'warning', startsAt: new Date().toISOString() }]),
    });
    expect(response.status).toBe(200);
    await until('the second attempt', async () => (arrivals.length >= 2 ? true : undefined), 10_000);
    // The backoff alone would retry after 20 ms.
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(950);
    const log = await until('both attempts logged', async () => {
      const attempts = await attemptsOf('rate-limited');
      return attempts.length === 2 ? attempts : undefined;
    });
    expect(log.map((a) => [a.outcome, a.httpStatus, a.error])).toEqual([
      ['retrying', 429, 'HTTP 429 (Retry-After 1 s)'],
      ['delivered', 200, ''],
    ]);
  });

  it('give up at once on an answer no retry changes (404), as Alertmanager does', async () => {
    const log = await until('the 404 logged', async () => {
      const attempts = await attemptsOf('gone');
      return attempts.length > 0 ? attempts : undefined;
    });
    // Three attempts were allowed, 20 ms apart: a retry would have come by now.
    await new Promise((r) => setTimeout(r, 500));
    expect(goneArrivals).toBe(1);
    expect(log.map((a) => [a.outcome, a.httpStatus])).toEqual([['failed', 404]]);
  });
});
