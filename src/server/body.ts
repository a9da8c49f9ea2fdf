/**
 * Reads a request body with the size limit enforced on the decompressed bytes: inflating stops the
 * moment the output passes the limit, so a gzip bomb costs at most `limit` bytes of memory and the
 * time to inflate that much.
 */
import type { Readable } from 'node:stream';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  constructor(readonly limit: number, compressed: boolean) {
    super(`request body exceeds the limit of ${limit} bytes${compressed ? ' after decompression' : ''}`);
  }
}
export class UnsupportedEncodingError extends Error {
  override name = 'UnsupportedEncodingError';
}
/** The body is not valid for its Content-Encoding (e.g. corrupt gzip). */
export class BadEncodingError extends Error {
  override name = 'BadEncodingError';
}

export type BodyFormat = 'protobuf' | 'json';

export class UnsupportedContentTypeError extends Error {
  override name = 'UnsupportedContentTypeError';
}

export function bodyFormatOf(contentType: string | undefined): BodyFormat {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  if (mediaType === 'application/json') return 'json';
  throw new UnsupportedContentTypeError(
    `unsupported Content-Type "${mediaType.slice(0, 60) || '(none)'}"; use application/x-protobuf or application/json`,
  );
}

export type ContentEncoding = 'identity' | 'gzip' | 'deflate';

export function parseContentEncoding(header: string | undefined): ContentEncoding {
  const value = (header ?? '').trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate') return 'deflate';
  throw new UnsupportedEncodingError(`unsupported Content-Encoding "${value.slice(0, 40)}"; use gzip, deflate or none`);
}

export function readBody(stream: Readable, encoding: ContentEncoding, limit: number): Promise<Buffer> {
  if (!(Number.isSafeInteger(limit) && limit > 0)) throw new RangeError(`body limit must be a positive integer, got ${limit}`);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let rawTotal = 0;
    let settled = false;
    const inflater: Gunzip | Inflate | null = encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : null;

    const cleanup = (): void => {
      stream.off('data', onRaw);
      stream.off('end', onRawEnd);
      stream.off('error', onError);
      stream.off('aborted', onAborted);
      stream.off('close', onClose);
      if (inflater) {
        inflater.off('data', onData);
        inflater.destroy();
      }
    };
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      cleanup();
      // Discard the rest of the upload so the response can still be read by the client.
      stream.resume();
      reject(err);
    };
    const finish = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) return fail(new BodyTooLargeError(limit, inflater !== null));
      chunks.push(chunk);
    };
    const onRaw = (chunk: Buffer): void => {
      rawTotal += chunk.length;
      if (rawTotal > limit) return fail(new BodyTooLargeError(limit, false));
      if (inflater) inflater.write(chunk);
      else onData(chunk);
    };
    const onRawEnd = (): void => {
      if (inflater) inflater.end();
      else finish();
    };
    const onError = (err: Error): void => fail(err);
    const onAborted = (): void => fail(new Error('client aborted the request'));
    const onClose = (): void => {
      if (!settled && !stream.readableEnded) fail(new Error('connection closed before the body was complete'));
    };

    if (inflater) {
      inflater.on('data', onData);
      inflater.once('end', finish);
      inflater.once('error', (err: Error) => fail(new BadEncodingError(`cannot decompress ${encoding} body: ${err.message}`)));
    }
    stream.on('data', onRaw);
    stream.once('end', onRawEnd);
    stream.once('error', onError);
    stream.once('aborted', onAborted);
    stream.once('close', onClose);
  });
}
