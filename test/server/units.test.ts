/** Small pure parts of the server: tenant rules, admission bounds, failure mapping. */
import { describe, expect, it } from 'vitest';
import { OtlpDecodeError } from '../../src/otlp/model.js';
import { StoreOverloadedError } from '../../src/store/types.js';
import { BodyTooLargeError, UnsupportedContentTypeError, UnsupportedEncodingError, parseContentEncoding } from '../../src/server/body.js';
import { classifyFailure, InvalidConsistencyError, parseWriteConsistency, retryAfterSeconds, SignalNotImplementedError } from '../../src/server/ingest.js';
import { InflightLimiter, NodeBusyError } from '../../src/server/limits.js';
import { DEFAULT_TENANT, InvalidTenantError, parseTenant } from '../../src/server/tenant.js';

describe('tenant', () => {
  it('defaults, accepts the allowed alphabet, refuses the rest', () => {
    expect(parseTenant(undefined)).toBe(DEFAULT_TENANT);
    expect(parseTenant("team-a_1.(x)*!'")).toBe("team-a_1.(x)*!'");
    expect(parseTenant(' padded ')).toBe('padded');
    for (const bad of ['', ' ', '.', '..', 'a b', 'a|b', 'ü', 'a/b', 'x'.repeat(151)]) expect(() => parseTenant(bad), bad).toThrow(InvalidTenantError);
    expect(() => parseTenant(['a', 'b'])).toThrow(/more than once/);
    expect(parseTenant('x'.repeat(150))).toHaveLength(150);
  });
});

describe('InflightLimiter', () => {
  it('bounds requests and bytes, always admits a lone request, and checks releases', () => {
    const limiter = new InflightLimiter(2, 100);
    expect(limiter.tryAcquireRequest()).toBe(true);
    expect(limiter.tryAcquireRequest()).toBe(true);
    expect(limiter.tryAcquireRequest()).toBe(false);
    limiter.releaseRequest();
    expect(limiter.tryAcquireRequest()).toBe(true);
    expect(limiter.tryAcquireBytes(500)).toBe(true); // alone: admitted although over the bound
    expect(limiter.tryAcquireBytes(1)).toBe(false);
    limiter.releaseBytes(500);
    expect(limiter.tryAcquireBytes(60)).toBe(true);
    expect(limiter.tryAcquireBytes(40)).toBe(true);
    expect(limiter.tryAcquireBytes(1)).toBe(false);
    expect(() => limiter.releaseBytes(1000)).toThrow();
    limiter.releaseRequest();
    limiter.releaseRequest();
    expect(() => limiter.releaseRequest()).toThrow();
  });
});

describe('classifyFailure', () => {
  it('maps every failure to its HTTP status and gRPC code', () => {
    const cases: [unknown, number, number][] = [
      [new OtlpDecodeError('x'), 400, 3],
      [new InvalidTenantError('x'), 400, 3],
      [new InvalidConsistencyError('x'), 400, 3],
      [new UnsupportedContentTypeError('x'), 415, 3],
      [new UnsupportedEncodingError('x'), 415, 3],
      [new BodyTooLargeError(10, true), 413, 8],
      [new SignalNotImplementedError('x'), 501, 12],
      [new StoreOverloadedError('x', 100), 429, 14],
      [new NodeBusyError('x', 1000), 429, 14],
      [new NodeBusyError('x', 1000, true), 503, 14],
      [new Error('boom'), 500, 13],
    ];
    for (const [err, http, grpc] of cases) {
      const f = classifyFailure(err);
      expect([f.http, f.grpc], String(err)).toEqual([http, grpc]);
    }
    expect(classifyFailure(new StoreOverloadedError('x', 100)).retryAfterMs).toBe(1000);
    // Both kinds of 415 carry the same google.rpc.Status code, and the message names every accepted encoding.
    expect(() => parseContentEncoding('br')).toThrow(/gzip, deflate or none/);
    expect(classifyFailure(new UnsupportedEncodingError('x')).grpc).toBe(classifyFailure(new UnsupportedContentTypeError('x')).grpc);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(2500)).toBe(3);
  });

  it('parses write consistency levels', () => {
    expect(parseWriteConsistency(undefined, 'strong')).toBe('strong');
    expect(parseWriteConsistency(' ANY ', 'strong')).toBe('any');
    expect(() => parseWriteConsistency('eventual', 'strong')).toThrow(InvalidConsistencyError);
  });
});
