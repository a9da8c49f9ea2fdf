/**
 * A reader for the small subset of EDN that history lines use: one map per line with keyword
 * keys, and values that are nil, booleans, integers, strings, keywords, vectors, lists or sets.
 */
import { HistoryParseError } from './errors.js';

export class EdnKeyword {
  constructor(readonly name: string) {}
}

export class EdnSet {
  constructor(readonly items: EdnValue[]) {}
}

export type EdnValue = null | boolean | number | string | EdnKeyword | EdnSet | EdnValue[];

const UNESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '"': '\\"', '\\': '\\\\' };

const SYMBOL_CHAR = /[A-Za-z0-9*+!_?<>=/.\-'#]/;

/** Parses `{:k v, ...}` into a map keyed by keyword name. */
export function parseEdnMapLine(text: string, line: number): Map<string, EdnValue> {
  const reader: Reader = new Reader(text, line);
  reader.skipSpace();
  reader.expect('{');
  const map = new Map<string, EdnValue>();
  for (;;) {
    reader.skipSpace();
    if (reader.peek() === '}') {
      reader.advance();
      break;
    }
    const key = reader.readValue();
    if (!(key instanceof EdnKeyword)) reader.fail('map keys must be keywords');
    if (map.has(key.name)) reader.fail(`duplicate key :${key.name}`);
    map.set(key.name, reader.readValue());
  }
  reader.skipSpace();
  if (!reader.atEnd()) reader.fail('unexpected text after the map');
  return map;
}

class Reader {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly line: number,
  ) {}

  fail(message: string): never {
    throw new HistoryParseError(this.line, `${message} (column ${this.pos + 1})`);
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  advance(): void {
    this.pos++;
  }

  expect(char: string): void {
    if (this.peek() !== char) this.fail(`expected '${char}'`);
    this.pos++;
  }

  skipSpace(): void {
    while (!this.atEnd() && /[\s,]/.test(this.peek())) this.pos++;
  }

  readValue(): EdnValue {
    this.skipSpace();
    const c = this.peek();
    if (c === '') this.fail('unexpected end of line');
    if (c === '"') return this.readString();
    if (c === '[') return this.readSequence('[', ']');
    if (c === '(') return this.readSequence('(', ')');
    if (c === '#') {
      this.pos++;
      if (this.peek() !== '{') this.fail("only '#{' sets are supported after '#'");
      return new EdnSet(this.readSequence('{', '}'));
    }
    if (c === ':') {
      this.pos++;
      const name = this.readSymbol();
      if (name === '') this.fail('empty keyword');
      return new EdnKeyword(name);
    }
    const token = this.readSymbol();
    if (token === 'nil') return null;
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (/^[-+]?\d+$/.test(token)) {
      const value = Number(token);
      if (!Number.isSafeInteger(value)) this.fail(`integer ${token} out of range`);
      return value;
    }
    return this.fail(token === '' ? `unexpected '${c}'` : `unsupported value '${token}'`);
  }

  private readSymbol(): string {
    const start = this.pos;
    while (!this.atEnd() && SYMBOL_CHAR.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private readSequence(open: string, close: string): EdnValue[] {
    this.expect(open);
    const items: EdnValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === close) {
        this.pos++;
        return items;
      }
      items.push(this.readValue());
    }
  }

  private readString(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '') this.fail('unterminated string');
      this.pos++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const escaped = this.peek();
      this.pos++;
      if (escaped === 'u') {
        const hex = this.text.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
        this.pos += 4;
        out += String.fromCharCode(parseInt(hex, 16));
        continue;
      }
      const replacement = UNESCAPES[escaped];
      if (replacement === undefined) this.fail(`unsupported escape '\\${escaped}'`);
      out += replacement;
    }
  }
}

/** Writes a string as an EDN string literal (the inverse of readString). */
export function ednString(value: string): string {
  return `"${value.replace(/[\\"\n\t\r]/g, (c) => ESCAPES[c]!)}"`;
}
