import { Readable } from 'node:stream';
import { gzipSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BadEncodingError, BodyTooLargeError, bodyFormatOf, parseContentEncoding, readBody, UnsupportedContentTypeError, UnsupportedEncodingError } from '../../src/server/body.js';

function chunked(buf: Buffer, size = 4096): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

describe('readBody', () => {
  it('returns plain and gzip/deflate bodies unchanged', async () => {
    const data = Buffer.from('x'.repeat(10_000) + 'tail');
    expect((await readBody(chunked(data), 'identity', 1 << 20)).equals(data)).toBe(true);
    expect((await readBody(chunked(gzipSync(data)), 'gzip', 1 << 20)).equals(data)).toBe(true);
    expect((await readBody(chunked(deflateSync(data)), 'deflate', 1 << 20)).equals(data)).toBe(true);
  });

  it('refuses a plain body over the limit', async () => {
    await expect(readBody(chunked(Buffer.alloc(2000)), 'identity', 1999)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect((await readBody(chunked(Buffer.alloc(1999)), 'identity', 1999)).length).toBe(1999);
  });

  it('stops inflating a gzip bomb as soon as the output passes the limit', async () => {
    // 64 MiB of zeros compresses to ~64 KiB; the limit is 1 MiB.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1 << 20);
    let produced = 0;
    const stream = chunked(bomb);
    stream.on('data', (c: Buffer) => (produced += c.length));
    const err = await readBody(stream, 'gzip', 1 << 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BodyTooLargeError);
    expect((err as Error).message).toMatch(/after decompression/);
  });

  it('reports corrupt gzip as a bad encoding', async () => {
    const bad = gzipSync(Buffer.from('hello world'));
    bad[12] ^= 0xff;
    bad[bad.length - 5] ^= 0xff;
    await expect(readBody(chunked(bad), 'gzip', 1 << 20)).rejects.toBeInstanceOf(BadEncodingError);
  });

  it('parses content types and encodings', () => {
    expect(bodyFormatOf('application/x-protobuf')).toBe('protobuf');
    expect(bodyFormatOf('application/json; charset=utf-8')).toBe('json');
    expect(() => bodyFormatOf('text/plain')).toThrow(UnsupportedContentTypeError);
    expect(() => bodyFormatOf(undefined)).toThrow(UnsupportedContentTypeError);
    expect(parseContentEncoding(undefined)).toBe('identity');
    expect(parseContentEncoding('GZIP')).toBe('gzip');
    expect(() => parseContentEncoding('br')).toThrow(UnsupportedEncodingError);
  });
});
