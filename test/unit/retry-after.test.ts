import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../src/incidents/notification.service.js';

const now = Date.parse('2026-12-07T10:00:00Z');

describe('Retry-After of a webhook receiver', () => {
  it('reads delay-seconds', () => {
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date as the time left until it', () => {
    expect(retryAfterMs('Mon, 07 Dec 2026 10:00:45 GMT', now)).toBe(45_000);
    expect(retryAfterMs('Mon, 07 Dec 2026 09:59:00 GMT', now)).toBe(0);
  });

  it('caps the wait at five minutes, the longest retry delay', () => {
    expect(retryAfterMs('86400', now)).toBe(300_000);
    expect(retryAfterMs('Tue, 08 Dec 2026 10:00:00 GMT', now)).toBe(300_000);
  });

  it('ignores what is absent or unreadable', () => {
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs('', now)).toBeNull();
    expect(retryAfterMs('1.5', now)).toBeNull();
    expect(retryAfterMs('-3', now)).toBeNull();
    expect(retryAfterMs('soon', now)).toBeNull();
  });
});
