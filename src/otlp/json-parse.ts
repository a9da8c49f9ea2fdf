/**
 * JSON parsing that keeps 64-bit integers exact.
 *
 * JSON.parse turns every number into a double, which silently rounds integers beyond 2^53 (and
 * some exponent forms). OTLP/JSON allows int64 / fixed64 values as JSON numbers, so a body whose
 * text holds such a literal is parsed by the small parser below instead, which returns those
 * literals as JsonNumberText. Other bodies take the native JSON.parse fast path.
 */
import { OtlpDecodeError } from './model.js';

/** A JSON number literal that a double may not represent exactly; `text` is the literal. */
export class JsonNumberText {
  constructor(readonly text: string) {}
}

/** Deepest array / object nesting accepted. */
export const MAX_JSON_DEPTH = 512;

/** Literals that JSON.parse might round: 16+ digits in a row, or an exponent. */
const INEXACT_LITERAL = /\d{16}|\d[eE]/;

export function parseJsonExact(text: string): unknown {
  if (!INEXACT_LITERAL.test(text)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new OtlpDecodeError(`invalid JSON: ${(err as Error).message}`);
    }
  }
  return new ExactJsonParser(text).parseDocument();
}

/**
 * Always the exact parser. `nativeError`, when JSON.parse already failed on the text, is only a
 * fallback description: the exact parser reports the position itself.
 */
export function parseJsonExactSlow(text: string, nativeError?: Error): unknown {
  const value = new ExactJsonParser(text).parseDocument();
  if (nativeError) throw new OtlpDecodeError(`invalid JSON: ${nativeError.message}`);
  return value;
}

class ExactJsonParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  private fail(problem: string): never {
    throw new OtlpDecodeError(`invalid JSON: ${problem} at character ${this.pos}`);
  }

  parseDocument(): unknown {
    this.ws();
    const value = this.value(0);
    this.ws();
    if (this.pos !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private ws(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 32 || c === 10 || c === 13 || c === 9) p++;
      else break;
    }
    this.pos = p;
  }

  private value(depth: number): unknown {
    const c = this.text.charCodeAt(this.pos);
    if (c === 123) return this.object(depth + 1); // {
    if (c === 91) return this.array(depth + 1); // [
    if (c === 34) return this.string(); // "
    if (c === 45 || (c >= 48 && c <= 57)) return this.number();
    if (this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    if (this.pos >= this.text.length) this.fail('unexpected end of input');
    this.fail(`unexpected character ${JSON.stringify(this.text[this.pos])}`);
  }

  private object(depth: number): Record<string, unknown> {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.pos++; // {
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.text.charCodeAt(this.pos) !== 34) this.fail('expected a string key');
      const key = this.string();
      this.ws();
      if (this.text.charCodeAt(this.pos) !== 58) this.fail("expected ':'");
      this.pos++;
      this.ws();
      const v = this.value(depth);
      // Own data property even for "__proto__", as JSON.parse does.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.text.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
        continue;
      }
      if (c === 125) {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): unknown[] {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.pos++; // [
    const out: unknown[] = [];
    this.ws();
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth));
      this.ws();
      const c = this.text.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
        continue;
      }
      if (c === 93) {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const t = this.text;
    const start = ++this.pos; // opening quote
    let p = start;
    // Fast path: no escapes.
    for (;;) {
      if (p >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(p);
      if (c === 34) {
        this.pos = p + 1;
        return t.slice(start, p);
      }
      if (c === 92) break;
      if (c < 0x20) {
        this.pos = p;
        this.fail('control character in string');
      }
      p++;
    }
    let out = t.slice(start, p);
    for (;;) {
      if (p >= t.length) {
        this.pos = p;
        this.fail('unterminated string');
      }
      const c = t.charCodeAt(p);
      if (c === 34) {
        this.pos = p + 1;
        return out;
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail('control character in string');
      }
      if (c !== 92) {
        out += t[p];
        p++;
        continue;
      }
      const e = t[p + 1];
      p += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = t.slice(p, p + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos = p;
            this.fail('bad \\u escape');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          p += 4;
          break;
        }
        default:
          this.pos = p - 1;
          this.fail('bad escape');
      }
    }
  }

  private number(): number | JsonNumberText {
    const t = this.text;
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    const found = m.exec(t);
    if (!found) this.fail('bad number');
    const lexeme = found[0];
    this.pos += lexeme.length;
    const n = Number(lexeme);
    // Exact when it has no exponent and few enough digits for a double.
    if (!/[eE]/.test(lexeme) && lexeme.replace(/[-.]/g, '').length <= 15) return n;
    return new JsonNumberText(lexeme);
  }
}

/**
 * The exact integer a JSON number (or its string form, which proto3 JSON also allows) denotes,
 * or null when it is not an integer (a fraction, not a number at all).
 */
export function exactInteger(value: number | string | JsonNumberText): bigint | null {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return null;
    return BigInt(value);
  }
  const text = typeof value === 'string' ? value.trim() : value.text;
  const m = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return null;
  const sign = m[1] === '-' ? -1n : 1n;
  const intDigits = m[2]!;
  const fracDigits = m[3] ?? '';
  const exp = m[4] ? Number(m[4]) : 0;
  // A huge exponent is either a zero fraction or far out of any integer range: bound the work.
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 400) {
    return /^0*$/.test(intDigits + fracDigits) ? 0n : null;
  }
  let digits = intDigits + fracDigits;
  let scale = exp - fracDigits.length;
  if (scale < 0) {
    const keep = digits.length + scale;
    const dropped = keep > 0 ? digits.slice(keep) : digits;
    if (!/^0*$/.test(dropped)) return null;
    digits = keep > 0 ? digits.slice(0, keep) : '0';
    scale = 0;
  }
  return sign * BigInt(digits) * 10n ** BigInt(scale);
}
