/**
 * Duration parsing. Go's time.ParseDuration (used by Tempo's minDuration/maxDuration and Jaeger's
 * duration params) and TraceQL duration literals (Go units plus Prometheus' d, w, y).
 * Results are nanoseconds as bigint so nothing loses precision.
 */
import { QueryError } from './errors.js';

const GO_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const TRACEQL_UNITS: Record<string, bigint> = {
  ...GO_UNITS,
  d: 24n * 3_600_000_000_000n,
  w: 7n * 24n * 3_600_000_000_000n,
  y: 365n * 24n * 3_600_000_000_000n,
};

const SEGMENT = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w|y)/;

/** Multiplies a decimal string by a unit exactly (fractional nanoseconds truncate, as Go does). */
function scaled(number: string, unit: bigint): bigint {
  const [whole = '0', frac = ''] = number.split('.');
  let ns = BigInt(whole || '0') * unit;
  if (frac) {
    const denom = 10n ** BigInt(frac.length);
    ns += (BigInt(frac) * unit) / denom;
  }
  return ns;
}

function parseWith(text: string, units: Record<string, bigint>, what: string): bigint {
  let rest = text.trim();
  if (rest === '') throw new QueryError(`invalid ${what}: empty duration`);
  let sign = 1n;
  if (rest[0] === '-' || rest[0] === '+') {
    if (rest[0] === '-') sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  let total = 0n;
  let segments = 0;
  while (rest.length > 0) {
    const m = SEGMENT.exec(rest);
    const unit = m ? units[m[2]!] : undefined;
    if (!m || unit === undefined) throw new QueryError(`invalid ${what}: "${text}" is not a duration (e.g. 100ms, 1.5s, 2h45m)`);
    total += scaled(m[1]!, unit);
    rest = rest.slice(m[0].length);
    segments++;
  }
  if (segments === 0) throw new QueryError(`invalid ${what}: "${text}"`);
  return sign * total;
}

/** Go's time.ParseDuration: "300ms", "-1.5h", "2h45m". Returns nanoseconds. */
export function parseGoDuration(text: string, what = 'duration'): bigint {
  return parseWith(text, GO_UNITS, what);
}

/** A TraceQL duration literal: Go units plus d, w, y. Returns nanoseconds. */
export function parseTraceQLDuration(text: string): bigint {
  return parseWith(text, TRACEQL_UNITS, 'duration');
}

/** Formats nanoseconds the way TraceQL would write them back (for error messages and docs). */
export function formatDurationNs(ns: bigint): string {
  if (ns % 1_000_000_000n === 0n) return `${ns / 1_000_000_000n}s`;
  if (ns % 1_000_000n === 0n) return `${ns / 1_000_000n}ms`;
  if (ns % 1_000n === 0n) return `${ns / 1_000n}us`;
  return `${ns}ns`;
}
