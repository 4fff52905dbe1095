import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import secureJson from 'secure-json-parse';
import { AppError } from '../shared/errors.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/**
 * Undoes Content-Encoding gzip/deflate (OTLP and Telegraf compress), bounded by
 * `maxBytes` after decompression so a small bomb cannot exhaust memory. 415 for encodings
 * Vigil does not speak.
 */
export async function decodeContentEncoding(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const name = (encoding ?? 'identity').trim().toLowerCase();
  if (name === 'identity' || name === '') return body;
  if (name !== 'gzip' && name !== 'deflate') {
    throw new AppError('INGEST_UNSUPPORTED_ENCODING', `Content-Encoding ${name} is not supported here (use gzip, deflate or none)`, { httpStatus: 415 });
  }
  try {
    return await (name === 'gzip' ? gunzipAsync : inflateAsync)(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new AppError('INGEST_PAYLOAD_TOO_LARGE', `body decompresses to more than ${maxBytes} bytes`, { httpStatus: 413 });
    }
    throw new AppError('INGEST_PAYLOAD_INVALID', `${name} decompression failed: ${(error as Error).message}`, { httpStatus: 400 });
  }
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A JSON body's bytes (UTF-8) as parseJsonBody reads them; an empty body is no body (undefined). */
export function parseJsonBytes(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  return text.trim() === '' ? undefined : parseJsonBody(text);
}

/**
 * JSON bodies of the API, as Fastify parses them (secure-json-parse refusing `__proto__` and
 * `constructor.prototype` keys), but the 400 says what is wrong and where: Fastify's own
 * answer was only "Body is not valid JSON".
 */
export function parseJsonBody(body: string): unknown {
  try {
    return secureJson.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const reason = (error as Error).message;
    const detail = /forbidden (prototype|constructor) property/.test(reason) ? `${reason} (a "__proto__" or "constructor.prototype" key)` : reason;
    throw new AppError('REQUEST_INVALID', `body is not valid JSON: ${detail}`, { httpStatus: 400 });
  }
}
