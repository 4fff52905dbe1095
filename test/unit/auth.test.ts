import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { createTokenLookup, credentialOf, registerAuth, scopeOf } from '../../src/api/auth.js';
import { registerErrorHandler } from '../../src/api/error-handler.js';

describe('scopeOf', () => {
  it.each([
    ['POST', '/api/v1/write', 'write'],
    ['POST', '/write', 'write'],
    ['POST', '/v1/metrics', 'write'],
    ['POST', '/api/v2/alerts', 'write'],
    ['POST', '/v2/enqueue', 'write'],
    ['GET', '/api/v1/incidents/:id', 'read'],
    ['GET', '/api/v1/export', 'read'],
    ['POST', '/api/v1/series', 'read'],
    ['POST', '/api/v1/export', 'read'],
    ['POST', '/api/v1/incidents/:id/:action', 'operate'],
    ['PUT', '/api/v1/services', 'operate'],
    ['GET', '/healthz', null],
    ['GET', '/readyz', null],
    ['GET', '/metrics', null],
    ['GET', '/docs/json', null],
    ['GET', '/docs', null],
    // No route matched: the 404 needs no token.
    ['GET', undefined, null],
    // A path that merely starts like an open one is not open.
    ['GET', '/metricsx', 'read'],
  ] as const)('%s %s needs %s', (method, url, scope) => {
    expect(scopeOf(method, url)).toBe(scope);
  });

  it('puts /metrics under read with protectMetrics, and nothing else that is open', () => {
    expect(scopeOf('GET', '/metrics', { protectMetrics: true })).toBe('read');
    expect(scopeOf('GET', '/healthz', { protectMetrics: true })).toBeNull();
    expect(scopeOf('GET', '/docs/json', { protectMetrics: true })).toBeNull();
  });
});

describe('registerAuth with protectMetrics', () => {
  it('asks a scraper for a read token, and leaves the probes open', async () => {
    const app = Fastify();
    registerErrorHandler(app);
    const counted: string[] = [];
    registerAuth(app, { tokens: [{ name: 'prometheus', token: 'scrape-token-0123456789', scopes: ['read'] }], protectMetrics: true }, (scope, reason) => counted.push(`${scope}:${reason}`));
    app.get('/metrics', async () => 'ok');
    app.get('/healthz', async () => 'ok');
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-token-0123456789' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(counted).toEqual(['read:missing']);
    await app.close();
  });
});

describe('credentialOf', () => {
  const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc  ', 'abc'],
    ['Token abc', 'abc'],
    [basic('prometheus:s3cret:with:colons'), 's3cret:with:colons'],
    [basic(':only-password'), 'only-password'],
    [basic('no-colon'), undefined],
    ['Digest abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ] as const)('%s → %s', (header, credential) => {
    expect(credentialOf(header)).toBe(credential);
  });
});

describe('createTokenLookup', () => {
  const secret = 'a-long-enough-secret-token';
  const lookup = createTokenLookup([
    { name: 'plain', token: secret, scopes: ['write'] },
    { name: 'hashed', tokenSha256: createHash('sha256').update('another-long-secret-token').digest('hex').toUpperCase(), scopes: ['read'] },
  ]);
  it('finds a token by its value or by its SHA-256, and nothing else', () => {
    expect(lookup(secret)?.name).toBe('plain');
    expect(lookup('another-long-secret-token')?.name).toBe('hashed');
    expect(lookup(`${secret} `)).toBeUndefined();
    expect(lookup('')).toBeUndefined();
  });
});
