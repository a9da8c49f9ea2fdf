import { describe, expect, it } from 'vitest';
import { parseGoDuration, parseTraceQLDuration } from '../../src/query/durations.js';
import { QueryError } from '../../src/query/errors.js';
import { parseTraceIdHex, tempoTraceIdString, jaegerTraceIdString } from '../../src/query/ids.js';
import { candidateQuery, parseLogfmt, requiredTerms, traceDurationBounds } from '../../src/query/planner.js';
import { parseTempoSearch } from '../../src/query/tempo-search.js';
import { parseTraceQL } from '../../src/query/traceql/parser.js';

const terms = (q: string) => requiredTerms(parseTraceQL(q).filter);

describe('planner: index terms', () => {
  it('takes equality terms on a conjunction path', () => {
    expect(terms('{ resource.service.name = "api" && name = "GET /" && status = error && span.http.method = "GET" && .region = "eu" && span.code = 200 && span.ok = true }')).toEqual([
      { kind: 'service', value: 'api' },
      { kind: 'name', value: 'GET /' },
      { kind: 'status', value: 2 },
      { kind: 'attr', scope: 'span', key: 'http.method', value: 'GET' },
      { kind: 'attr', scope: 'any', key: 'region', value: 'eu' },
      { kind: 'attr', scope: 'span', key: 'code', value: 200 },
      { kind: 'attr', scope: 'span', key: 'ok', value: true },
    ]);
  });

  it('accepts the literal on either side and deduplicates', () => {
    expect(terms('{ "api" = resource.service.name && resource.service.name = "api" }')).toEqual([{ kind: 'service', value: 'api' }]);
  });

  it('takes nothing under ||, from != / ranges / regexes, floats, or huge ints', () => {
    expect(terms('{ name = "a" || name = "b" }')).toEqual([]);
    expect(terms('{ name != "a" && duration > 1s && name =~ "x.*" && span.r = 0.5 && span.big = 9007199254740993 }')).toEqual([]);
    expect(terms('{ (name = "a" || status = error) && span.k = "v" }')).toEqual([{ kind: 'attr', scope: 'span', key: 'k', value: 'v' }]);
    expect(terms('{}')).toEqual([]);
  });

  it('derives trace duration bounds from traceDuration on a conjunction path only', () => {
    expect(traceDurationBounds(parseTraceQL('{ traceDuration > 1s && traceDuration <= 2s }').filter)).toEqual({ min: 1_000_000_000n, max: 2_000_000_000n });
    expect(traceDurationBounds(parseTraceQL('{ 5s > traceDuration }').filter)).toEqual({ max: 5_000_000_000n });
    expect(traceDurationBounds(parseTraceQL('{ traceDuration > 1s || name = "x" }').filter)).toEqual({});
  });

  it('builds the CandidateQuery from q, tags, durations and time range', () => {
    const plan = parseTempoSearch({ q: '{ resource.service.name = "api" && traceDuration > 2s }', minDuration: '1s', maxDuration: '10s', start: '1700000000', end: '1700003600', limit: '5', spss: '2' });
    expect(plan.limit).toBe(5);
    expect(plan.spss).toBe(2);
    expect(candidateQuery('t1', plan)).toEqual({
      tenant: 't1',
      startNs: 1_700_000_000_000_000_000n,
      endNs: 1_700_003_600_000_000_000n,
      requiredTerms: [{ kind: 'service', value: 'api' }],
      minTraceDurationNs: 2_000_000_000n,
      maxTraceDurationNs: 10_000_000_000n,
    });
    const legacy = parseTempoSearch({ tags: 'service.name=api name="GET /x" status=error http.method=GET' });
    expect(candidateQuery('t', legacy).requiredTerms).toEqual([
      { kind: 'service', value: 'api' },
      { kind: 'name', value: 'GET /x' },
      { kind: 'status', value: 2 },
    ]);
  });
});

describe('planner: Tempo search parameters', () => {
  it('has Tempo defaults', () => {
    const p = parseTempoSearch({});
    expect(p).toMatchObject({ query: null, tags: [], limit: 20, spss: 3 });
  });

  it('treats unknown parameters as tags when q, tags, start and end are absent', () => {
    expect(parseTempoSearch({ 'service.name': 'api', limit: '3' }).tags).toEqual([{ key: 'service.name', value: 'api' }]);
    expect(parseTempoSearch({ 'service.name': 'api', start: '1', end: '2' }).tags).toEqual([]);
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ q: '{}', tags: 'a=b' }, /can't specify tags and q/],
    [{ limit: '0' }, /invalid limit/],
    [{ limit: 'x' }, /invalid limit/],
    [{ start: '20', end: '10' }, /start must be before end/],
    [{ minDuration: 'fast' }, /minDuration/],
    [{ minDuration: '2s', maxDuration: '1s' }, /maxDuration/],
    [{ tags: 'a=1 a=2' }, /duplicate key/],
    [{ tags: 'a="unterminated' }, /unterminated/],
    [{ q: '{ name = "a" } | count() > 1' }, /not supported/],
  ])('rejects %j', (q, message) => {
    expect(() => parseTempoSearch(q)).toThrow(QueryError);
    expect(() => parseTempoSearch(q)).toThrow(message);
  });

  it('parses logfmt with quotes and escapes', () => {
    expect(parseLogfmt('a=1  b="two words" c="q\\"d" d=')).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: 'two words' },
      { key: 'c', value: 'q"d' },
      { key: 'd', value: '' },
    ]);
  });
});

describe('durations and ids', () => {
  it('parses Go durations exactly', () => {
    expect(parseGoDuration('300ms')).toBe(300_000_000n);
    expect(parseGoDuration('1.5h')).toBe(5_400_000_000_000n);
    expect(parseGoDuration('2h45m')).toBe(9_900_000_000_000n);
    expect(parseGoDuration('1µs')).toBe(1_000n);
    expect(parseGoDuration('-2s')).toBe(-2_000_000_000n);
    expect(parseGoDuration('0')).toBe(0n);
    expect(() => parseGoDuration('1d')).toThrow(QueryError); // Go has no days
    expect(() => parseGoDuration('10')).toThrow(QueryError);
    expect(parseTraceQLDuration('1d')).toBe(86_400_000_000_000n);
    expect(parseTraceQLDuration('1w')).toBe(604_800_000_000_000n);
  });

  it('parses and renders trace ids like Tempo and Jaeger', () => {
    expect(Buffer.from(parseTraceIdHex('abc')).toString('hex')).toBe('00000000000000000000000000000abc');
    expect(Buffer.from(parseTraceIdHex('0123456789ABCDEF0123456789abcdef')).toString('hex')).toBe('0123456789abcdef0123456789abcdef');
    expect(() => parseTraceIdHex('')).toThrow(QueryError);
    expect(() => parseTraceIdHex('xyz')).toThrow(/not hexadecimal/);
    expect(() => parseTraceIdHex('1'.repeat(33))).toThrow(/longer than 32/);
    expect(() => parseTraceIdHex('0000')).toThrow(/all zeros/);
    const id = parseTraceIdHex('00000000000000000000000000abcdef');
    expect(tempoTraceIdString(id)).toBe('abcdef');
    expect(jaegerTraceIdString(id)).toBe('0000000000abcdef');
    expect(jaegerTraceIdString(parseTraceIdHex('10000000000000000000000000abcdef'))).toBe('10000000000000000000000000abcdef');
  });
});
