import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IngestService } from '../../ingest/index.js';
import { decodeOtlpMetricsJson, decodeOtlpMetricsProtobuf, parseLineProtocol, parsePrecision } from '../../ingest/index.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { decodeContentEncoding, mediaType } from '../request-body.js';

export interface IngestRouteDeps {
  ingest: IngestService;
  clock: Clock;
  maxBodyBytes: number;
  maxDecompressedBytes: number;
  /** Checked by the parsers as they read, before the work that grows with them. */
  maxLabelsPerSeries: number;
  maxLabelValueBytes: number;
  maxLabelBytesPerSeries: number;
}

const REMOTE_WRITE_V2 = 'io.prometheus.write.v2.request';

/**
 * Metric ingest endpoints (api.md). Bodies arrive as raw buffers: each protocol decodes its
 * own format, and nothing is parsed twice. Answers 2xx only after the data is durable.
 */
export async function ingestRoutes(app: FastifyInstance, deps: IngestRouteDeps): Promise<void> {
  // Encapsulated: only these routes take every content type as a raw buffer.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes }, (_request, body, done) => done(null, body));

  const bodyOf = (request: FastifyRequest): Buffer => {
    if (!Buffer.isBuffer(request.body)) throw new AppError('INGEST_PAYLOAD_INVALID', 'request has no body', { httpStatus: 400 });
    return request.body;
  };

  app.post('/api/v1/write', async (request, reply) => {
    const contentType = request.headers['content-type'];
    const type = mediaType(contentType);
    if (type !== '' && type !== 'application/x-protobuf') {
      throw new AppError('INGEST_UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type} is not remote-write; send application/x-protobuf`, { httpStatus: 415 });
    }
    if ((contentType ?? '').toLowerCase().replace(/\s/g, '').includes(`proto=${REMOTE_WRITE_V2}`)) {
      // Prometheus falls back to 1.0 on 415.
      throw new AppError('INGEST_UNSUPPORTED_MEDIA_TYPE', 'remote-write 2.0 is not supported yet; send 1.0 (prometheus.WriteRequest)', { httpStatus: 415 });
    }
    const encoding = (request.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (encoding !== 'snappy') {
      throw new AppError('INGEST_UNSUPPORTED_ENCODING', `Content-Encoding must be snappy for remote-write, got ${JSON.stringify(encoding || 'none')}`, { httpStatus: 415 });
    }
    const summary = await deps.ingest.ingestRemoteWrite(bodyOf(request));
    return reply.status(204).header('X-Prometheus-Remote-Write-Samples-Written', String(summary.samples)).send();
  });

  app.post('/v1/metrics', async (request, reply) => {
    const type = mediaType(request.headers['content-type']);
    // The media type first: an unsupported one is 415 whatever its body would decompress to.
    if (type !== 'application/x-protobuf' && type !== 'application/protobuf' && type !== 'application/json') {
      throw new AppError('INGEST_UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type || 'none'} is not OTLP; send application/x-protobuf or application/json`, { httpStatus: 415 });
    }
    const body = await decodeContentEncoding(bodyOf(request), request.headers['content-encoding'], deps.maxDecompressedBytes);
    const limits = { maxLabelsPerSeries: deps.maxLabelsPerSeries, maxLabelValueBytes: deps.maxLabelValueBytes, maxLabelBytesPerSeries: deps.maxLabelBytesPerSeries };
    if (type === 'application/json') {
      const text = utf8Text(body, 'OTLP/JSON');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new AppError('INGEST_PAYLOAD_INVALID', `body is not valid JSON: ${(error as Error).message}`, { httpStatus: 400 });
      }
      await deps.ingest.ingestDecoded('otlp', decodeOtlpMetricsJson(parsed, limits));
      return reply.status(200).send({});
    }
    await deps.ingest.ingestDecoded('otlp', decodeOtlpMetricsProtobuf(body, limits));
    // An empty ExportMetricsServiceResponse: full success.
    return reply.status(200).header('content-type', 'application/x-protobuf').send(Buffer.alloc(0));
  });

  const influxWrite = async (request: FastifyRequest, reply: FastifyReply) => {
    const query = request.query as Record<string, string | undefined>;
    const precision = parsePrecision(query.precision);
    if (precision === null) {
      throw new AppError('INGEST_PAYLOAD_INVALID', `precision ${JSON.stringify(query.precision)} is not one of ns, us, ms, s, m, h (or InfluxDB 1.x's n, u, µ)`, { httpStatus: 400 });
    }
    const body = await decodeContentEncoding(bodyOf(request), request.headers['content-encoding'], deps.maxDecompressedBytes);
    const limits = { maxLabelsPerSeries: deps.maxLabelsPerSeries, maxNameBytes: deps.maxLabelValueBytes, maxLabelBytes: deps.maxLabelBytesPerSeries };
    await deps.ingest.ingestDecoded('influx', parseLineProtocol(utf8Text(body, 'line protocol'), { precision, nowMs: deps.clock.nowMs(), limits }));
    return reply.status(204).send();
  };
  app.post('/api/v2/write', influxWrite);
  app.post('/write', influxWrite);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A text body as a string; invalid UTF-8 is a 400 (toString would turn it into U+FFFD,
 * and two different byte strings could become one label value).
 */
function utf8Text(body: Buffer, what: string): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new AppError('INGEST_PAYLOAD_INVALID', `${what} body is not valid UTF-8`, { httpStatus: 400 });
  }
}
