/**
 * Parser for the TraceQL subset Grafana's query builder writes: exactly one spanset filter
 * `{ … }` (optionally parenthesised) whose body is comparisons joined by `&&` / `||` with
 * parentheses. `&&` binds tighter than `||`. Everything else in TraceQL is recognised and
 * rejected with an UnsupportedQueryError naming the construct.
 */
import { QueryError, UnsupportedQueryError } from '../errors.js';
import {
  INTRINSICS,
  INTRINSIC_ALIASES,
  KIND_VALUES,
  SCOPED_INTRINSICS,
  STATUS_VALUES,
  type AttributeScope,
  type ComparisonOp,
  type FieldExpr,
  type Intrinsic,
  type Operand,
  type TraceQLQuery,
} from './ast.js';
import { tokenize, type Token } from './lexer.js';

const COMPARISONS = new Set(['=', '!=', '>', '>=', '<', '<=', '=~', '!~']);
const SPANSET_OPERATORS = new Set(['&&', '||', '>', '<', '>>', '<<', '~', '!>', '!<', '!>>', '!<<', '!~', '&>', '&<', '&>>', '&<<', '&~']);
const ARITHMETIC = new Set(['+', '-', '*', '/', '%', '^']);
const FUNCTIONS = new Set([
  'count', 'avg', 'max', 'min', 'sum', 'by', 'coalesce', 'select', 'rate', 'count_over_time',
  'min_over_time', 'max_over_time', 'avg_over_time', 'sum_over_time', 'quantile_over_time',
  'histogram_over_time', 'compare', 'topk', 'bottomk', 'with',
]);
const UNSUPPORTED_INTRINSICS = new Set([
  'childCount', 'nestedSetLeft', 'nestedSetRight', 'id', 'traceID', 'spanID',
  'parentID', 'timeSinceStart', 'version', 'parent', 'instrumentation', 'event', 'link',
]);
/** Longest accepted query, so a pathological input cannot cost unbounded parse work. */
export const MAX_QUERY_LENGTH = 64 * 1024;
/** Longest regex pattern; JavaScript regexes backtrack, so keep patterns modest. */
export const MAX_REGEX_LENGTH = 1024;

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of query';
    case 'string': return `string ${JSON.stringify(t.value)}`;
    case 'punct':
    case 'op':
    case 'word':
    case 'scopedIntrinsic': return `"${t.text}"`;
    default: return `"${t.text}"`;
  }
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  private take(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private isPunct(text: string, t = this.peek()): boolean {
    return t.kind === 'punct' && t.text === text;
  }
  private isOp(text: string, t = this.peek()): boolean {
    return t.kind === 'op' && t.text === text;
  }
  private error(message: string, t = this.peek()): QueryError {
    return new QueryError(`TraceQL parse error at position ${t.pos + 1}: ${message}`);
  }
  private expectPunct(text: string): void {
    const t = this.peek();
    if (!this.isPunct(text, t)) throw this.error(`expected "${text}", found ${describe(t)}`, t);
    this.take();
  }

  parseQuery(): FieldExpr | null {
    const t = this.peek();
    if (t.kind === 'eof') throw this.error('empty query; write {} to match every span');
    if (t.kind === 'word' && FUNCTIONS.has(t.text)) throw new UnsupportedQueryError(`TraceQL "${t.text}(…)" is not supported: only a single spanset filter { … } is`);
    const filter = this.parseSpansetTerm();
    const after = this.peek();
    if (after.kind === 'eof') return filter;
    if (this.isOp('|', after)) throw new UnsupportedQueryError('TraceQL pipelines ("|", aggregates, select, by) are not supported: only a single spanset filter { … } is');
    if (after.kind === 'op' && SPANSET_OPERATORS.has(after.text)) {
      throw new UnsupportedQueryError(`TraceQL spanset operator "${after.text}" between spansets is not supported: combine conditions inside one { … } instead`);
    }
    if (after.kind === 'word' && after.text === 'with') throw new UnsupportedQueryError('TraceQL query hints with(…) are not supported');
    if (after.kind === 'op' && (COMPARISONS.has(after.text) || ARITHMETIC.has(after.text))) {
      throw new UnsupportedQueryError(`TraceQL scalar filters and arithmetic on spansets ("${after.text}") are not supported`);
    }
    throw this.error(`unexpected ${describe(after)} after the spanset`, after);
  }

  /** `{ … }` or `( spansetTerm )`. */
  private parseSpansetTerm(): FieldExpr | null {
    const t = this.peek();
    if (this.isPunct('(', t)) {
      this.take();
      const inner = this.parseSpansetTerm();
      const close = this.peek();
      if (close.kind === 'op' && SPANSET_OPERATORS.has(close.text)) {
        throw new UnsupportedQueryError(`TraceQL spanset operator "${close.text}" between spansets is not supported: combine conditions inside one { … } instead`);
      }
      if (this.isOp('|', close)) throw new UnsupportedQueryError('TraceQL pipelines ("|", aggregates, select, by) are not supported: only a single spanset filter { … } is');
      this.expectPunct(')');
      return inner;
    }
    if (!this.isPunct('{', t)) throw this.error(`expected "{" to start a spanset filter, found ${describe(t)}`, t);
    this.take();
    if (this.isPunct('}')) {
      this.take();
      return null;
    }
    const expr = this.parseOr();
    this.expectPunct('}');
    return expr;
  }

  private parseOr(): FieldExpr {
    let left = this.parseAnd();
    while (this.isOp('||')) {
      this.take();
      left = { type: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): FieldExpr {
    let left = this.parsePrimary();
    while (this.isOp('&&')) {
      this.take();
      left = { type: 'and', left, right: this.parsePrimary() };
    }
    return left;
  }

  private parsePrimary(): FieldExpr {
    const t = this.peek();
    if (this.isOp('!', t)) throw new UnsupportedQueryError('TraceQL negation "!" is not supported: use != or !~');
    if (this.isPunct('(', t)) {
      this.take();
      const inner = this.parseOr();
      this.expectPunct(')');
      return this.maybeComparisonAfterGroup(inner);
    }
    const left = this.parseOperand();
    const op = this.peek();
    if (op.kind === 'op' && COMPARISONS.has(op.text)) {
      this.take();
      const right = this.parseOperand();
      this.rejectArithmetic();
      return this.makeComparison(op.text as ComparisonOp, left, right, op);
    }
    if (op.kind === 'op' && ARITHMETIC.has(op.text)) throw new UnsupportedQueryError(`TraceQL arithmetic ("${op.text}") is not supported`);
    return { type: 'truthy', operand: left };
  }

  private maybeComparisonAfterGroup(inner: FieldExpr): FieldExpr {
    const op = this.peek();
    if (op.kind === 'op' && (COMPARISONS.has(op.text) || ARITHMETIC.has(op.text))) {
      throw new UnsupportedQueryError(`TraceQL comparison or arithmetic on a parenthesised expression ("${op.text}") is not supported`);
    }
    return inner;
  }

  private rejectArithmetic(): void {
    const t = this.peek();
    if (t.kind === 'op' && ARITHMETIC.has(t.text)) throw new UnsupportedQueryError(`TraceQL arithmetic ("${t.text}") is not supported`);
  }

  private makeComparison(op: ComparisonOp, left: Operand, right: Operand, at: Token): FieldExpr {
    const nilSide = (o: Operand) => o.type === 'static' && o.value.t === 'nil';
    if ((nilSide(left) || nilSide(right)) && op !== '=' && op !== '!=') throw this.error(`nil can only be compared with = or !=`, at);
    if (op === '=~' || op === '!~') {
      if (!(right.type === 'static' && right.value.t === 'string')) throw this.error(`the right side of ${op} must be a string literal (a regular expression)`, at);
      const pattern = right.value.v;
      if (pattern.length > MAX_REGEX_LENGTH) throw this.error(`regular expression longer than ${MAX_REGEX_LENGTH} characters`, at);
      let regex: RegExp;
      try {
        // Tempo anchors regexes fully: the whole value must match.
        regex = new RegExp(`^(?:${pattern})$`);
      } catch (e) {
        throw this.error(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`, at);
      }
      return { type: 'compare', op, left, right, regex };
    }
    return { type: 'compare', op, left, right };
  }

  private parseOperand(): Operand {
    const t = this.take();
    switch (t.kind) {
      case 'string':
        return { type: 'static', value: { t: 'string', v: t.value } };
      case 'int':
        return { type: 'static', value: { t: 'int', v: t.value } };
      case 'float':
        return { type: 'static', value: { t: 'float', v: t.value } };
      case 'duration':
        return { type: 'static', value: { t: 'duration', v: t.value } };
      case 'attribute':
        return this.attribute(t.scope, t.key, t);
      case 'scopedIntrinsic': {
        const name = SCOPED_INTRINSICS[t.text];
        if (!name) throw new UnsupportedQueryError(`TraceQL intrinsic "${t.text}" is not supported`);
        return { type: 'intrinsic', name };
      }
      case 'op':
        if (t.text === '-') {
          const n = this.take();
          if (n.kind === 'int') return { type: 'static', value: { t: 'int', v: -n.value } };
          if (n.kind === 'float') return { type: 'static', value: { t: 'float', v: -n.value } };
          if (n.kind === 'duration') return { type: 'static', value: { t: 'duration', v: -n.value } };
          throw new UnsupportedQueryError('TraceQL unary minus is only supported on number and duration literals');
        }
        if (t.text === '!') throw new UnsupportedQueryError('TraceQL negation "!" is not supported: use != or !~');
        throw this.error(`expected a value, attribute or intrinsic, found ${describe(t)}`, t);
      case 'word':
        return this.word(t);
      default:
        throw this.error(`expected a value, attribute or intrinsic, found ${describe(t)}`, t);
    }
  }

  private attribute(scope: string, key: string, t: Token): Operand {
    const scopes: Record<string, AttributeScope> = { '': 'any', span: 'span', resource: 'resource' };
    const s = scopes[scope];
    if (!s) throw new UnsupportedQueryError(`TraceQL "${scope}." attributes are not supported: use span., resource. or an unscoped .attribute`);
    if (key.length === 0) throw this.error('attribute name expected', t);
    return { type: 'attribute', scope: s, key };
  }

  private word(t: Token & { kind: 'word' }): Operand {
    const w = t.text;
    if (w === 'true' || w === 'false') return { type: 'static', value: { t: 'bool', v: w === 'true' } };
    if (w === 'nil') return { type: 'static', value: { t: 'nil' } };
    if (w in STATUS_VALUES) return { type: 'static', value: { t: 'status', v: STATUS_VALUES[w as keyof typeof STATUS_VALUES] } };
    if (w in KIND_VALUES) return { type: 'static', value: { t: 'kind', v: KIND_VALUES[w as keyof typeof KIND_VALUES] } };
    if ((INTRINSICS as readonly string[]).includes(w)) return { type: 'intrinsic', name: w as Intrinsic };
    const alias = INTRINSIC_ALIASES[w];
    if (alias) return { type: 'intrinsic', name: alias };
    if (FUNCTIONS.has(w)) throw new UnsupportedQueryError(`TraceQL "${w}(…)" is not supported inside a spanset filter`);
    if (UNSUPPORTED_INTRINSICS.has(w)) throw new UnsupportedQueryError(`TraceQL intrinsic "${w}" is not supported`);
    throw this.error(`unknown identifier "${w}": attributes need a scope (span.${w}, resource.${w} or .${w})`, t);
  }
}

/** Parses a TraceQL query of the supported subset. Throws QueryError (400) with a message saying what is wrong. */
export function parseTraceQL(source: string): TraceQLQuery {
  if (source.length > MAX_QUERY_LENGTH) throw new QueryError(`TraceQL query longer than ${MAX_QUERY_LENGTH} characters`);
  const tokens = tokenize(source);
  const filter = new Parser(tokens).parseQuery();
  return { source, filter };
}
