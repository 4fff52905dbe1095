import type { FastifyInstance } from 'fastify';
import type { CatalogService } from '../../catalog/catalog.service.js';
import { catalogCandidateOfYaml } from '../../catalog/validate-catalog.js';
import { AppError } from '../../shared/errors.js';
import { mediaType } from '../request-body.js';

const CATALOG_BODY_LIMIT = 16 * 1024 * 1024;
/** The media types a YAML catalog may come as (there is no registered one). */
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** The service catalog: read it whole or one service, replace it whole (configuration as code). */
export async function serviceRoutes(app: FastifyInstance, deps: { catalog: CatalogService }): Promise<void> {
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: CATALOG_BODY_LIMIT }, (_request, body, done) => done(null, body));
  app.get('/api/v1/services', async () => deps.catalog.index().catalog);

  app.get('/api/v1/services/:id', async (request) => {
    const { id } = request.params as { id: string };
    const index = deps.catalog.index();
    const service = index.serviceById.get(id);
    if (!service) throw new AppError('SERVICE_NOT_FOUND', `no service ${id} in the catalog`, { httpStatus: 404 });
    const dependencies = [...new Set(service.dependsOn.flatMap((d) => [d, ...index.dependenciesOf(d)]))].sort();
    return { ...service, dependencies };
  });

  // JSON, or YAML as in the catalog file (configuration as code).
  app.put('/api/v1/services', { bodyLimit: CATALOG_BODY_LIMIT }, async (request) => {
    const author = typeof request.headers['x-vigil-author'] === 'string' ? request.headers['x-vigil-author'] : 'api';
    const type = mediaType(request.headers['content-type']);
    let candidate: unknown = request.body;
    if (YAML_TYPES.includes(type)) {
      const parsed = catalogCandidateOfYaml(String(request.body));
      if (!parsed.ok) throw new AppError('CATALOG_INVALID', `invalid catalog:\n${parsed.problems.join('\n')}`, { httpStatus: 400 });
      candidate = parsed.candidate;
    } else if (type !== 'application/json') {
      // text/plain (curl's default with --data) would arrive as a string and fail as "not an object".
      throw new AppError('REQUEST_UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type || 'none'} is not a catalog; send application/json or application/yaml`, { httpStatus: 415 });
    }
    return (await deps.catalog.replace(candidate, author)).catalog;
  });
}
