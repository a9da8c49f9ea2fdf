/** Trace and span id encodings: hex (OTLP/JSON, Jaeger api_v3, URLs) and base64 (Tempo's JSON). */
import { OtlpDecodeError } from './model.js';

const HEX = '0123456789abcdef';
const HEX_PAIRS: string[] = [];
for (let i = 0; i < 256; i++) HEX_PAIRS.push(HEX[i >> 4]! + HEX[i & 15]!);

/** Lower-case hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX_PAIRS[bytes[i]!]!;
  return s;
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/** Hex (either case) to bytes; null when the text is not an even-length hex string. */
export function tryFromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(text.charCodeAt(2 * i));
    const lo = hexNibble(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Hex to bytes; throws OtlpDecodeError naming `what` when the text is not hex. */
export function fromHex(text: string, what = 'id'): Uint8Array {
  const bytes = tryFromHex(text);
  if (!bytes) throw new OtlpDecodeError(`${what}: not a hex string: ${JSON.stringify(text.slice(0, 80))}`);
  return bytes;
}

/**
 * A trace id as written in a URL or query (Tempo and Jaeger accept short ids): hex, up to 32
 * digits, left-padded with zeros to 16 bytes. Null when it is not that.
 */
export function parseTraceIdParam(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 32) return null;
  const bytes = tryFromHex(text.padStart(32, '0'));
  if (!bytes || isAllZero(bytes)) return null;
  return bytes;
}

/** Standard base64 with padding (what Go's encoding/json and gogo jsonpb write for bytes). */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}|[A-Za-z0-9+/]{3})?$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]*={0,2}$/;

/** Base64 (standard or URL-safe, padded or not, as proto3 JSON parsers accept) to bytes; null if invalid. */
export function tryFromBase64(text: string): Uint8Array | null {
  if (BASE64_RE.test(text)) return new Uint8Array(Buffer.from(text, 'base64'));
  if (BASE64URL_RE.test(text) && text.replace(/=+$/, '').length % 4 !== 1) {
    return new Uint8Array(Buffer.from(text, 'base64url'));
  }
  return null;
}

export function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
