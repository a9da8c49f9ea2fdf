/** Trace and span id parsing and rendering for the HTTP APIs. */
import { toHex } from '../otlp/ids.js';
import { QueryError } from './errors.js';

const HEX = /^[0-9a-fA-F]+$/;

/**
 * Parses a hex trace id as Tempo and Jaeger accept it: 1 to 32 hex digits, left-padded with zeros
 * to 16 bytes (so 64-bit Jaeger ids work). Throws QueryError (400) on anything else.
 */
export function parseTraceIdHex(text: string): Uint8Array {
  if (text.length === 0) throw new QueryError('invalid trace id: empty');
  if (text.length > 32) throw new QueryError(`invalid trace id "${text}": longer than 32 hex digits (128 bits)`);
  if (!HEX.test(text)) throw new QueryError(`invalid trace id "${text}": not hexadecimal`);
  const padded = text.padStart(32, '0');
  const id = new Uint8Array(16);
  for (let i = 0; i < 16; i++) id[i] = parseInt(padded.slice(i * 2, i * 2 + 2), 16);
  if (id.every((b) => b === 0)) throw new QueryError(`invalid trace id "${text}": all zeros`);
  return id;
}

/** Tempo renders trace ids in search results as hex without leading zeros. */
export function tempoTraceIdString(traceId: Uint8Array): string {
  const hex = toHex(traceId).replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

/** Tempo renders span ids in search results as 16 hex digits. */
export function tempoSpanIdString(spanId: Uint8Array): string {
  return toHex(spanId).padStart(16, '0');
}

/** Jaeger renders a 128-bit id whose high half is zero as 16 hex digits, otherwise 32. */
export function jaegerTraceIdString(traceId: Uint8Array): string {
  const hex = toHex(traceId).padStart(32, '0');
  return hex.startsWith('0000000000000000') ? hex.slice(16) : hex;
}
