import { describe, expect, it } from 'vitest';
import { QueryError } from '../../src/query/errors.js';
import { decodeTracesData, WireError } from '../../src/otlp/decode.js';
import { parseTraceQL } from '../../src/query/traceql/parser.js';
import { matchingSpans } from '../../src/query/traceql/evaluate.js';
import { encodeRequest, richTrace } from './fixtures.js';
import { traceView } from './views.js';

/** A small deterministic PRNG so a failure replays exactly. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '{', '}', '(', ')', '&&', '||', '=', '!=', '>', '>=', '<', '<=', '=~', '!~', '|', '>>', '!', '-', '+', ',',
  'name', 'duration', 'status', 'kind', 'statusMessage', 'traceDuration', 'rootName', 'rootServiceName',
  'span.http.method', 'resource.service.name', '.foo', 'span."a b"', 'event.x', 'span:name', 'trace:duration',
  '"GET"', '`raw`', '"unterminated', '42', '-7', '1.5', '100ms', '2h30m', '10xs', 'true', 'false', 'nil', 'error',
  'ok', 'server', 'client', 'count()', 'select(span.a)', 'by(name)', ' ', ' ', '"a.*"', '"("', '\\', '\u00b5s',
];

describe('fuzz', () => {
  it('the TraceQL parser answers every input with a query or a QueryError, and parsed queries evaluate', () => {
    const next = rng(12345);
    const trace = traceView(1, [{ id: 1, name: 'GET', attrs: [{ key: 'http.method', value: 'GET' }, { key: 'foo', value: 3 }] }, { id: 2, parent: 1, status: 2 }]);
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const n = 1 + Math.floor(next() * 12);
      let q = next() < 0.7 ? '{' : '';
      for (let k = 0; k < n; k++) q += PIECES[Math.floor(next() * PIECES.length)]! + (next() < 0.5 ? ' ' : '');
      if (next() < 0.7) q += '}';
      try {
        const query = parseTraceQL(q);
        parsed++;
        expect(Array.isArray(matchingSpans(query, trace))).toBe(true);
      } catch (e) {
        if (!(e instanceof QueryError)) throw new Error(`input ${JSON.stringify(q)} threw ${String(e)}`);
      }
    }
    expect(parsed).toBeGreaterThan(50); // the generator reaches valid queries too
  });

  it('the wire decoder answers mutated bytes with data or a WireError, never anything else', () => {
    const next = rng(777);
    const good = encodeRequest(richTrace());
    for (let i = 0; i < 1000; i++) {
      const bytes = new Uint8Array(good);
      const edits = 1 + Math.floor(next() * 4);
      for (let k = 0; k < edits; k++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      const cut = next() < 0.3 ? Math.floor(next() * bytes.length) : bytes.length;
      try {
        decodeTracesData(bytes.subarray(0, cut));
      } catch (e) {
        if (!(e instanceof WireError)) throw new Error(`mutation ${i} threw ${String(e)}`);
      }
    }
  });
});
