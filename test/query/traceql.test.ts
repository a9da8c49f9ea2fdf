import { describe, expect, it } from 'vitest';
import { QueryError, UnsupportedQueryError } from '../../src/query/errors.js';
import { parseTraceQL } from '../../src/query/traceql/parser.js';
import { matchingSpans } from '../../src/query/traceql/evaluate.js';
import { tokenize } from '../../src/query/traceql/lexer.js';
import { traceView } from './views.js';

// One trace with spans that differ in every field the subset can test.
const trace = traceView(1, [
  { id: 1, name: 'GET /cart', kind: 2, startMs: 0, durationMs: 500, status: 1, service: 'frontend',
    attrs: [{ key: 'http.method', value: 'GET' }, { key: 'http.status_code', value: 200 }, { key: 'cached', value: true }, { key: 'ratio', value: 0.5, isDouble: true }, { key: 'with space', value: 'yes' }],
    resourceAttrs: [{ key: 'service.name', value: 'frontend' }, { key: 'deployment.environment', value: 'prod' }] },
  { id: 2, parent: 1, name: 'SELECT cart', kind: 3, startMs: 10, durationMs: 120, status: 2, statusMessage: 'timeout', service: 'db',
    attrs: [{ key: 'db.system', value: 'postgresql' }, { key: 'http.status_code', value: 503 }, { key: 'big', value: 9007199254740993n }, { key: 'env', value: 'span-level' }],
    resourceAttrs: [{ key: 'service.name', value: 'db' }, { key: 'env', value: 'resource-level' }] },
  { id: 3, parent: 1, name: 'render', kind: 1, startMs: 200, durationMs: 5, status: 0, service: 'frontend',
    attrs: [{ key: 'ratio', value: 3, isDouble: true }] },
]);

function ids(q: string): number[] {
  return matchingSpans(parseTraceQL(q), trace).map((s) => new DataView(s.spanId.buffer).getUint32(4));
}

describe('TraceQL evaluation', () => {
  it.each<[string, number[]]>([
    ['{}', [1, 2, 3]],
    ['{ }', [1, 2, 3]],
    // intrinsics
    ['{ name = "GET /cart" }', [1]],
    ['{ span:name = "render" }', [3]],
    ['{ name != "render" }', [1, 2]],
    ['{ name =~ "GET.*" }', [1]],
    ['{ name =~ "GET" }', []], // fully anchored
    ['{ name !~ ".*cart" }', [3]],
    ['{ duration > 100ms }', [1, 2]],
    ['{ duration >= 120ms }', [1, 2]],
    ['{ duration < 120ms }', [3]],
    ['{ duration <= 5ms }', [3]],
    ['{ duration = 500ms }', [1]],
    ['{ duration > 0.1s }', [1, 2]],
    ['{ duration < 5000us }', []],
    ['{ duration < 5001µs }', [3]],
    ['{ duration > 1m }', []],
    ['{ span:duration > 400000000ns }', [1]],
    ['{ status = error }', [2]],
    ['{ status = ok }', [1]],
    ['{ status = unset }', [3]],
    ['{ status != error }', [1, 3]],
    ['{ span:status = error }', [2]],
    ['{ kind = server }', [1]],
    ['{ kind = client }', [2]],
    ['{ kind = internal }', [3]],
    ['{ kind = producer || kind = consumer || kind = unspecified }', []],
    ['{ statusMessage = "timeout" }', [2]],
    ['{ traceDuration > 400ms }', [1, 2, 3]],
    ['{ trace:duration < 400ms }', []],
    ['{ rootName = "GET /cart" }', [1, 2, 3]],
    ['{ trace:rootName = "nope" }', []],
    ['{ rootServiceName = "frontend" && status = error }', [2]],
    ['{ trace:rootService = "frontend" }', [1, 2, 3]],
    // attributes
    ['{ span.http.method = "GET" }', [1]],
    ['{ span.http.status_code = 200 }', [1]],
    ['{ span.http.status_code >= 500 }', [2]],
    ['{ span.http.status_code > 199.5 }', [1, 2]],
    ['{ span.http.status_code != 200 }', [2]], // span 3 has no such attribute: false
    ['{ span.cached = true }', [1]],
    ['{ span.cached }', [1]],
    ['{ span.cached = false }', []],
    ['{ span.ratio = 0.5 }', [1]],
    ['{ span.ratio = 3 }', [3]], // int literal vs double attribute compare numerically
    ['{ span.ratio < 1 }', [1]],
    ['{ span.big = 9007199254740993 }', [2]], // beyond 2^53, exact
    ['{ span.big = 9007199254740992 }', []],
    ['{ span."with space" = "yes" }', [1]],
    ['{ span.db.system = `postgresql` }', [2]],
    ['{ resource.service.name = "db" }', [2]],
    ['{ resource.deployment.environment = "prod" }', [1]],
    ['{ .service.name = "frontend" }', [1, 3]],
    ['{ .env = "resource-level" }', [2]], // unscoped: span or resource
    ['{ .env = "span-level" }', [2]],
    ['{ span.env = "resource-level" }', []],
    ['{ span.http.method = 200 }', []], // type mismatch is false, not an error
    ['{ span.http.method != nil }', [1]],
    ['{ span.http.method = nil }', [2, 3]],
    ['{ .env != nil }', [2]],
    ['{ span.missing != "x" }', []],
    // boolean structure and precedence: && binds tighter than ||
    ['{ kind = server || kind = client && status = ok }', [1]],
    ['{ (kind = server || kind = client) && status = error }', [2]],
    ['{ kind = server || (kind = client && status = error) }', [1, 2]],
    ['{ ((name = "render")) }', [3]],
    ['({ name = "render" })', [3]],
    ['{ true }', [1, 2, 3]],
    ['{ false }', []],
    ['{ true && name = "render" }', [3]],
    ['{ span.http.status_code > -1 }', [1, 2]],
    ['{ 200 = span.http.status_code }', [1]],
    // Traces Drilldown's root-span test: only the sign of nestedSetParent is modelled
    ['{ nestedSetParent < 0 && true }', [1]],
    ['{ nestedSetParent >= 0 }', [2, 3]],
  ])('%s', (q, expected) => {
    expect(ids(q)).toEqual(expected);
  });
});

describe('TraceQL literals', () => {
  it('lexes every literal type', () => {
    const kinds = tokenize('"a\\"b\\n" `raw\\n` 42 4.5 .5 100ms 1h30m 2d 1.5s true').map((t) => t.kind);
    expect(kinds).toEqual(['string', 'string', 'int', 'float', 'float', 'duration', 'duration', 'duration', 'duration', 'word', 'eof']);
    const toks = tokenize('"a\\"b\\n" `raw\\n` 1h30m');
    expect(toks[0]).toMatchObject({ kind: 'string', value: 'a"b\n' });
    expect(toks[1]).toMatchObject({ kind: 'string', value: 'raw\\n' });
    expect(toks[2]).toMatchObject({ kind: 'duration', value: 5_400_000_000_000n });
  });
});

describe('TraceQL errors', () => {
  it.each<[string, RegExp]>([
    ['{ name = "a" } | count() > 2', /pipelines/],
    ['{ name = "a" } | select(span.foo)', /pipelines/],
    ['{ name = "a" } >> { name = "b" }', /spanset operator ">>"/],
    ['{ name = "a" } && { name = "b" }', /spanset operator "&&"/],
    ['{ name = "a" } || { name = "b" }', /spanset operator "\|\|"/],
    ['{ name = "a" } ~ { name = "b" }', /spanset operator "~"/],
    ['({ name = "a" } > { name = "b" })', /spanset operator ">"/],
    ['count() > 1', /not supported/],
    ['{ span.a + 1 > 2 }', /arithmetic/],
    ['{ !(name = "a") }', /negation/],
    ['{ event.name = "x" }', /"event\." attributes/],
    ['{ parent.span.x = 1 }', /"parent\." attributes/],
    ['{ nestedSetLeft > 0 }', /intrinsic "nestedSetLeft"/],
    ['{ childCount > 1 }', /intrinsic "childCount"/],
    ['{ event:name = "x" }', /intrinsic "event:name"/],
    ['{ name = "a" } with(sample=true)', /hints|not supported/],
  ])('%s is rejected as unsupported', (q, message) => {
    let err: unknown;
    try {
      parseTraceQL(q);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedQueryError);
    expect((err as Error).message).toMatch(message);
  });

  it.each<[string, RegExp]>([
    ['', /empty query/],
    ['{ name = "a"', /expected "}"/],
    ['{ name = }', /expected a value/],
    ['{ foo = "a" }', /unknown identifier "foo"/],
    ['{ name = "unterminated }', /unterminated string/],
    ['{ name =~ "(" }', /invalid regular expression/],
    ['{ name =~ span.x }', /must be a string literal/],
    ['{ duration > 10xs }', /duration unit|malformed/],
    ['{ name > nil }', /nil can only be compared/],
    ['name = "a"', /expected "\{"/],
    ['{ name = "a" } garbage', /unexpected/],
  ])('%s is a parse error', (q, message) => {
    let err: unknown;
    try {
      parseTraceQL(q);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QueryError);
    expect(err).not.toBeInstanceOf(UnsupportedQueryError);
    expect((err as Error).message).toMatch(message);
  });
});
