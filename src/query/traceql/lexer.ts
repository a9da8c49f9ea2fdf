/**
 * TraceQL tokenizer. It knows the whole TraceQL token vocabulary (pipes, structural operators,
 * arithmetic, aggregate names) so that the parser can name an unsupported construct precisely
 * instead of failing with a generic syntax error.
 */
import { UnsupportedQueryError, QueryError } from '../errors.js';
import { parseTraceQLDuration } from '../durations.js';

export type Token =
  | { kind: 'punct'; text: string; pos: number } // { } ( ) ,
  | { kind: 'op'; text: string; pos: number } // && || = != > >= < <= =~ !~ | >> << ~ ! + - * / % ^ &> ...
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'int'; value: bigint; text: string; pos: number }
  | { kind: 'float'; value: number; text: string; pos: number }
  | { kind: 'duration'; value: bigint; text: string; pos: number }
  | { kind: 'attribute'; scope: string; key: string; text: string; pos: number } // scope: '' for `.x`
  | { kind: 'scopedIntrinsic'; text: string; pos: number } // span:name
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'eof'; pos: number };

/** Characters that end an attribute name (Tempo's lexer rule), besides whitespace. */
const ATTRIBUTE_STOP = new Set(['{', '}', '(', ')', '=', '~', '!', '<', '>', '&', '|', '^', ',']);
const OPERATORS = ['&>>', '&<<', '!>>', '!<<', '&&', '||', '!=', '>=', '<=', '=~', '!~', '>>', '<<', '&>', '&<', '&~', '!>', '!<', '=', '>', '<', '|', '~', '!', '+', '-', '*', '/', '%', '^'];
const ATTRIBUTE_SCOPES = new Set(['span', 'resource', 'parent', 'event', 'link', 'instrumentation', 'trace']);
const DURATION_AFTER_NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h|d|w|y)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h|d|w|y))*/;
const NUMBER = /^(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/;

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function isWordStart(c: string): boolean {
  return /[A-Za-z_]/.test(c);
}

function isWordChar(c: string): boolean {
  return /[A-Za-z0-9_]/.test(c);
}

export class Lexer {
  private pos = 0;
  constructor(private readonly src: string) {}

  tokenize(): Token[] {
    const tokens: Token[] = [];
    // Bound: every iteration consumes at least one character or returns.
    for (;;) {
      const t = this.next();
      tokens.push(t);
      if (t.kind === 'eof') return tokens;
    }
  }

  private error(message: string, at = this.pos): QueryError {
    return new QueryError(`TraceQL parse error at position ${at + 1}: ${message}`);
  }

  private next(): Token {
    const s = this.src;
    while (this.pos < s.length && isSpace(s[this.pos]!)) this.pos++;
    const start = this.pos;
    if (this.pos >= s.length) return { kind: 'eof', pos: start };
    const c = s[this.pos]!;

    if (c === '{' || c === '}' || c === '(' || c === ')' || c === ',') {
      this.pos++;
      return { kind: 'punct', text: c, pos: start };
    }
    if (c === '"' || c === '`') return { kind: 'string', value: this.readString(), pos: start };
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[this.pos + 1] ?? ''))) return this.readNumber();
    if (c === '.') {
      this.pos++;
      const key = this.readAttributeName();
      return { kind: 'attribute', scope: '', key, text: s.slice(start, this.pos), pos: start };
    }
    if (isWordStart(c)) {
      let end = this.pos;
      while (end < s.length && isWordChar(s[end]!)) end++;
      const word = s.slice(this.pos, end);
      if (s[end] === '.' && ATTRIBUTE_SCOPES.has(word)) {
        this.pos = end + 1;
        const key = this.readAttributeName();
        return { kind: 'attribute', scope: word, key, text: s.slice(start, this.pos), pos: start };
      }
      if (s[end] === ':' && isWordStart(s[end + 1] ?? '')) {
        let e2 = end + 1;
        while (e2 < s.length && isWordChar(s[e2]!)) e2++;
        this.pos = e2;
        return { kind: 'scopedIntrinsic', text: s.slice(start, e2), pos: start };
      }
      this.pos = end;
      return { kind: 'word', text: word, pos: start };
    }
    for (const op of OPERATORS) {
      if (s.startsWith(op, this.pos)) {
        this.pos += op.length;
        return { kind: 'op', text: op, pos: start };
      }
    }
    throw this.error(`unexpected character ${JSON.stringify(c)}`);
  }

  private readNumber(): Token {
    const start = this.pos;
    const rest = this.src.slice(this.pos);
    const d = DURATION_AFTER_NUMBER.exec(rest);
    // A duration unit must not run into more letters ("10mss" is an error, not 10ms + "s").
    if (d && !isWordChar(rest[d[0].length] ?? '')) {
      this.pos += d[0].length;
      return { kind: 'duration', value: parseTraceQLDuration(d[0]), text: d[0], pos: start };
    }
    const n = NUMBER.exec(rest);
    if (!n) throw this.error('malformed number');
    if (isWordChar(rest[n[0].length] ?? '')) throw this.error(`malformed number or unknown duration unit in "${rest.slice(0, n[0].length + 3)}"`);
    this.pos += n[0].length;
    if (/^\d+$/.test(n[0])) return { kind: 'int', value: BigInt(n[0]), text: n[0], pos: start };
    return { kind: 'float', value: Number(n[0]), text: n[0], pos: start };
  }

  /** Attribute names run to whitespace or a stop character and may embed "quoted parts". */
  private readAttributeName(): string {
    const s = this.src;
    const start = this.pos;
    let name = '';
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (isSpace(c) || ATTRIBUTE_STOP.has(c)) break;
      if (c === '"') {
        name += this.readString();
        continue;
      }
      name += c;
      this.pos++;
    }
    if (name === '') throw this.error('attribute name expected', start);
    return name;
  }

  /** Double-quoted strings with Go escapes, or backtick raw strings. */
  private readString(): string {
    const s = this.src;
    const quote = s[this.pos]!;
    const start = this.pos;
    this.pos++;
    let out = '';
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === quote) {
        this.pos++;
        return out;
      }
      if (c === '\\' && quote === '"') {
        const e = s[this.pos + 1];
        this.pos += 2;
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case '\\': out += '\\'; break;
          case '"': out += '"'; break;
          case "'": out += "'"; break;
          case 'a': out += '\x07'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'v': out += '\v'; break;
          case 'u':
          case 'U':
          case 'x': {
            const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
            const hex = s.slice(this.pos, this.pos + len);
            if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) throw this.error(`bad \\${e} escape in string`, start);
            out += String.fromCodePoint(parseInt(hex, 16));
            this.pos += len;
            break;
          }
          default:
            throw this.error(`unknown escape \\${e ?? ''} in string`, start);
        }
        continue;
      }
      out += c;
      this.pos++;
    }
    throw this.error('unterminated string', start);
  }
}

export function tokenize(src: string): Token[] {
  return new Lexer(src).tokenize();
}

export { UnsupportedQueryError };
