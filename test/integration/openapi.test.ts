import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil();
});
afterAll(async () => {
  await vigil?.stop();
});

type Document = { openapi: string; paths: Record<string, Record<string, unknown>> };

/**
 * Every route the app serves, as `METHOD /path` with `{param}` placeholders, /docs itself and
 * HEAD excluded, read from Fastify's route tree (each level indented 4 more characters, a
 * child's path continuing its parent's).
 */
function servedRoutes(): string[] {
  const text = vigil.app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^([│├└─ ]*)(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack[depth - 1] = (depth > 1 ? stack[depth - 2]! : '') + match[2]!;
    const path = stack[depth - 1]!.replace(/:(\w+)/g, '{$1}');
    if (!match[3] || path.startsWith('/docs')) continue;
    for (const method of match[3].split(', ')) if (method !== 'HEAD') routes.push(`${method} ${path}`);
  }
  return routes.sort();
}

describe('OpenAPI description at /docs', () => {
  it('serves the document at /docs/json and Swagger UI at /docs', async () => {
    const response = await fetch(`${vigil.url}/docs/json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Document;
    expect(document.openapi).toMatch(/^3\./);
    const ui = await fetch(`${vigil.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
  });

  it('describes exactly the routes the app serves', async () => {
    const document = (await (await fetch(`${vigil.url}/docs/json`)).json()) as Document;
    const described = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const served = servedRoutes();
    expect(served.length).toBeGreaterThan(20);
    expect(described).toEqual(served);
  });
});
