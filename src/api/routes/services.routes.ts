import type { FastifyInstance } from 'fastify';
import type { CatalogService } from '../../catalog/catalog.service.js';
import { AppError } from '../../shared/errors.js';

/** The service catalog: read it whole or one service, replace it whole (configuration as code). */
export async function serviceRoutes(app: FastifyInstance, deps: { catalog: CatalogService }): Promise<void> {
  app.get('/api/v1/services', async () => deps.catalog.index().catalog);

  app.get('/api/v1/services/:id', async (request) => {
    const { id } = request.params as { id: string };
    const index = deps.catalog.index();
    const service = index.serviceById.get(id);
    if (!service) throw new AppError('SERVICE_NOT_FOUND', `no service ${id} in the catalog`, { httpStatus: 404 });
    const dependencies = [...new Set(service.dependsOn.flatMap((d) => [d, ...index.dependenciesOf(d)]))].sort();
    return { ...service, dependencies };
  });

  app.put('/api/v1/services', { bodyLimit: 16 * 1024 * 1024 }, async (request) => {
    const author = typeof request.headers['x-vigil-author'] === 'string' ? request.headers['x-vigil-author'] : 'api';
    return (await deps.catalog.replace(request.body, author)).catalog;
  });
}
