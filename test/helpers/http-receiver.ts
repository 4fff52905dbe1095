import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver got it, body read whole. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpReceiver {
  /** `http://127.0.0.1:<port>`, for route URLs. */
  readonly url: string;
  /** Stops listening and drops open connections (a hanging request included). */
  close(): Promise<void>;
}

/**
 * A real HTTP endpoint on loopback standing in for a team's webhook: `answer` gets each
 * request once its body is read, and answers it (or leaves it hanging). Port 0 picks a free one.
 */
export async function startReceiver(answer: (request: ReceivedRequest, response: ServerResponse) => void, port = 0): Promise<HttpReceiver> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => answer({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body }, response));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
