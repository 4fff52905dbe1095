import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/index.js';

export interface HealthRouteDeps {
  metrics: Metrics;
  /** True once storage is migrated and reachable; /readyz answers 503 until then. */
  isReady: () => Promise<boolean>;
}

export async function healthRoutes(app: FastifyInstance, deps: HealthRouteDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = await deps.isReady().catch(() => false);
    if (!ready) return reply.status(503).header('Retry-After', '1').send({ status: 'not ready' });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
