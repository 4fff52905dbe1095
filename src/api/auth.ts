import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';

/**
 * Bearer tokens with scopes (`server.auth`): what each sender and person may do. Off when no
 * tokens are configured (the default listens on loopback only).
 * - `write`: metric ingest and alert intake, what monitoring systems send.
 * - `read`: every read of stored data (series, export, alerts, incidents, notifications, services, reports).
 * - `operate`: changes people make (incident actions, the service catalog).
 * Probes, /metrics and /docs stay open: load balancers and Prometheus scrape them, and they
 * hold no data of the monitored estate (`protectMetrics` puts /metrics under `read`).
 */
export const AUTH_SCOPES = ['write', 'read', 'operate'] as const;
export type AuthScope = (typeof AUTH_SCOPES)[number];

export interface AuthToken {
  /** Who holds it: named in 403 answers and logs, never the token itself. */
  name: string;
  /** The token, or instead its SHA-256 (hex), so the configuration file need not hold the secret. */
  token?: string;
  tokenSha256?: string;
  scopes: AuthScope[];
}

/** Routes senders post to (metric ingest, alert intake). */
const WRITE_ROUTES: ReadonlySet<string> = new Set(['/api/v1/write', '/v1/metrics', '/api/v2/write', '/write', '/api/v1/alerts/alertmanager', '/api/v2/alerts', '/api/v1/alerts', '/v2/enqueue']);
/** POST routes that only read: Prometheus' and VictoriaMetrics' form-encoded queries. */
const READ_POST_ROUTES: ReadonlySet<string> = new Set(['/api/v1/series', '/api/v1/export']);
const OPEN_PREFIXES = ['/healthz', '/readyz', '/metrics', '/docs'];
/** PagerDuty's Events API authenticates by the routing key in the body: tools that speak it send no header. */
const PAGERDUTY_ROUTE = '/v2/enqueue';
/**
 * A PagerDuty event without the header is parsed before its routing key can be checked: only
 * a body of at most this many bytes, uncompressed (PagerDuty's own limit for an event is 512 KB).
 */
const UNAUTHENTICATED_BODY_BYTES = 512 * 1024;
/** Requests let in to be judged by their body (PagerDuty's routing_key); still unverified until then. */
const awaitingBody = new WeakSet<FastifyRequest>();

/** Whether the request's credential is yet to be read from its body: a 4xx it gets before that is the door's, not the sender's. */
export function isAwaitingBodyCredential(request: FastifyRequest): boolean {
  return awaitingBody.has(request);
}

/**
 * The scope a route needs, or null when it is open (probes, self-monitoring, the API document,
 * no such route). `protectMetrics`: /metrics needs `read` (a Prometheus scraping it sends a token).
 */
export function scopeOf(method: string, routeUrl: string | undefined, options: { protectMetrics?: boolean } = {}): AuthScope | null {
  if (routeUrl === '/metrics' && options.protectMetrics === true) return 'read';
  if (routeUrl === undefined || OPEN_PREFIXES.some((prefix) => routeUrl === prefix || routeUrl.startsWith(`${prefix}/`))) return null;
  if (method === 'GET' || method === 'HEAD') return 'read';
  if (method === 'POST' && WRITE_ROUTES.has(routeUrl)) return 'write';
  if (method === 'POST' && READ_POST_ROUTES.has(routeUrl)) return 'read';
  return 'operate';
}

/**
 * The credential of an Authorization header: `Bearer <token>` (Prometheus' and Alertmanager's
 * `authorization`, the OpenTelemetry collector's headers), `Token <token>` (Telegraf's
 * InfluxDB v2 output), or the password of `Basic` (their `basic_auth`; the user name is not
 * checked). Undefined when absent or of another scheme.
 */
export function credentialOf(header: string | undefined): string | undefined {
  const match = /^\s*(Bearer|Token|Basic)\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const [, scheme, value] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() !== 'basic') return value;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Finds the token a credential is, comparing SHA-256 digests in constant time (every token is compared). */
export function createTokenLookup(tokens: readonly AuthToken[]): (credential: string) => AuthToken | undefined {
  const digests = tokens.map((token) => ({ token, digest: token.tokenSha256 !== undefined ? Buffer.from(token.tokenSha256, 'hex') : sha256(token.token ?? '') }));
  return (credential) => {
    const presented = sha256(credential);
    let found: AuthToken | undefined;
    for (const { token, digest } of digests) if (timingSafeEqual(presented, digest) && !found) found = token;
    return found;
  };
}

/** Why a request was refused: no credential, an unknown one (401), a token without the scope (403). */
export const AUTH_REFUSAL_REASONS = ['missing', 'invalid', 'forbidden'] as const;
/** Counts refused requests by the scope they needed and why. */
export type AuthRefusals = (scope: AuthScope, reason: (typeof AUTH_REFUSAL_REASONS)[number]) => void;

const CHALLENGE = 'Bearer realm="vigil", Basic realm="vigil"';

/** The path asked for (not the route's pattern), for messages. */
const pathOf = (request: FastifyRequest) => request.url.split('?')[0];

/**
 * Refuses, before the body is read, a request without a token of the scope its route needs:
 * 401 (with a challenge) when the credential is missing or unknown, 403 when the token lacks
 * the scope. A PagerDuty event without the header is judged by its `routing_key` once parsed.
 */
export function registerAuth(app: FastifyInstance, auth: { tokens: readonly AuthToken[]; protectMetrics?: boolean }, refused: AuthRefusals): void {
  const lookup = createTokenLookup(auth.tokens);
  const scopeOptions = { protectMetrics: auth.protectMetrics === true };
  /** Counts the refusal and answers 401 with the challenge. */
  const unauthorized = (reply: FastifyReply, scope: AuthScope, reason: 'missing' | 'invalid', detail: string): never => {
    refused(scope, reason);
    reply.header('www-authenticate', CHALLENGE);
    throw new AppError('AUTH_REQUIRED', detail, { httpStatus: 401 });
  };
  const check = (request: FastifyRequest, reply: FastifyReply, scope: AuthScope, credential: string | undefined, via: string) => {
    if (credential === undefined) return unauthorized(reply, scope, 'missing', `${request.method} ${pathOf(request)} needs a token with scope ${scope}: ${via}`);
    const token = lookup(credential);
    if (!token) return unauthorized(reply, scope, 'invalid', 'the token given is not one Vigil knows');
    if (!token.scopes.includes(scope)) {
      refused(scope, 'forbidden');
      throw new AppError('AUTH_FORBIDDEN', `token ${token.name} has scopes ${token.scopes.join(', ')}; ${request.method} ${pathOf(request)} needs ${scope}`, { httpStatus: 403 });
    }
  };
  app.addHook('onRequest', async (request, reply) => {
    const scope = scopeOf(request.method, request.routeOptions.url, scopeOptions);
    if (scope === null) return;
    // Only a request with no Authorization header at all may wait for its routing_key: a
    // header given is judged as given (an unreadable one is no credential).
    if (request.headers.authorization === undefined && request.routeOptions.url === PAGERDUTY_ROUTE) {
      const length = Number(request.headers['content-length']);
      const encoding = request.headers['content-encoding'];
      if (!(length <= UNAUTHENTICATED_BODY_BYTES) || (encoding !== undefined && encoding !== 'identity')) {
        return unauthorized(reply, scope, 'missing', `an event without Authorization is read for its routing_key only up to ${UNAUTHENTICATED_BODY_BYTES} bytes with a Content-Length, uncompressed; send Authorization: Bearer <token>`);
      }
      awaitingBody.add(request);
      return;
    }
    check(request, reply, scope, credentialOf(request.headers.authorization), 'send Authorization: Bearer <token> (or Basic with the token as password)');
  });
  // Before the route's own checks (content type): an unverified sender learns nothing more.
  app.addHook('preValidation', async (request, reply) => {
    if (!awaitingBody.has(request)) return;
    const body = request.body as { routing_key?: unknown } | undefined;
    const routingKey = typeof body === 'object' && body !== null && typeof body.routing_key === 'string' ? body.routing_key : undefined;
    check(request, reply, 'write', routingKey, 'give the token as routing_key (or send Authorization: Bearer <token>)');
    awaitingBody.delete(request);
  });
}
