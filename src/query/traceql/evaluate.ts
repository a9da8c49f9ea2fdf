/**
 * Evaluates a parsed TraceQL spanset filter over a TraceView. A trace matches when at least one of
 * its spans satisfies the filter; the matching spans form the trace's spanset.
 *
 * Semantics follow Tempo's: a comparison with a missing attribute is false (for != too);
 * unscoped `.x` matches when either the span or the resource attribute satisfies the comparison;
 * ints and floats compare numerically; a type mismatch is false, never an error.
 */
import type { IndexedAttribute } from '../../otlp/model.js';
import type { SpanView, TraceSummary, TraceView } from '../../store/types.js';
import type { ComparisonOp, FieldExpr, Operand, TraceQLQuery, Value } from './ast.js';

const NIL: Value = { t: 'nil' };

/** The value an indexed attribute holds, typed as TraceQL sees it (a double 3.0 stays a float). */
export function attributeValue(attr: IndexedAttribute): Extract<Value, { t: 'string' | 'bool' | 'int' | 'float' }> {
  const v = attr.value;
  if (typeof v === 'string') return { t: 'string', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (typeof v === 'bigint') return { t: 'int', v };
  if (attr.isDouble || !Number.isInteger(v)) return { t: 'float', v };
  return { t: 'int', v: BigInt(v) };
}

export function findAttribute(attrs: IndexedAttribute[], key: string): IndexedAttribute | undefined {
  for (const a of attrs) if (a.key === key) return a;
  return undefined;
}

/**
 * A resource attribute of the span. The service name is kept on the span view even when the
 * resource attributes are trimmed, so `service.name` falls back to it.
 */
export function resourceAttribute(span: SpanView, key: string): IndexedAttribute | undefined {
  const a = findAttribute(span.resourceAttributes, key);
  if (a) return a;
  return key === 'service.name' && span.serviceName !== '' ? { key, value: span.serviceName } : undefined;
}

export function intrinsicValue(name: string, span: SpanView, summary: TraceSummary): Value {
  switch (name) {
    case 'name':
      return { t: 'string', v: span.name };
    case 'duration':
      return { t: 'duration', v: span.endTimeUnixNano - span.startTimeUnixNano };
    case 'status':
      return { t: 'status', v: span.statusCode };
    case 'kind':
      return { t: 'kind', v: span.kind };
    case 'statusMessage':
      return { t: 'string', v: span.statusMessage };
    case 'traceDuration':
      return { t: 'duration', v: summary.endTimeUnixNano - summary.startTimeUnixNano };
    case 'rootName':
      return summary.rootSpanName === '' ? NIL : { t: 'string', v: summary.rootSpanName };
    case 'rootServiceName':
      return summary.rootServiceName === '' ? NIL : { t: 'string', v: summary.rootServiceName };
    case 'nestedSetParent':
      return { t: 'int', v: span.parentSpanId.length === 0 || span.parentSpanId.every((b) => b === 0) ? -1n : 1n };
    default:
      throw new Error(`evaluate: unknown intrinsic ${name}`);
  }
}

function orderResult(c: number, op: ComparisonOp): boolean {
  switch (op) {
    case '=': return c === 0;
    case '!=': return c !== 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    default: return false;
  }
}

function cmp<T extends number | bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two present values; a type mismatch yields false. */
export function compareValues(a: Value, b: Value, op: ComparisonOp, regex?: RegExp): boolean {
  // A missing value never satisfies a comparison (existence tests are handled by the caller).
  if (a.t === 'nil' || b.t === 'nil') return false;
  if (op === '=~' || op === '!~') {
    if (a.t !== 'string' || !regex) return false;
    const m = regex.test(a.v);
    return op === '=~' ? m : !m;
  }
  // Numbers: int and float compare numerically with each other.
  if ((a.t === 'int' || a.t === 'float') && (b.t === 'int' || b.t === 'float')) {
    if (a.t === 'int' && b.t === 'int') return orderResult(cmp(a.v, b.v), op);
    const x = Number(a.v);
    const y = Number(b.v);
    if (Number.isNaN(x) || Number.isNaN(y)) return op === '!=';
    return orderResult(cmp(x, y), op);
  }
  if (a.t !== b.t) return false;
  switch (a.t) {
    case 'string':
      return orderResult(cmp(a.v, (b as typeof a).v), op);
    case 'duration':
      return orderResult(cmp(a.v, (b as typeof a).v), op);
    case 'bool':
    case 'status':
    case 'kind':
      if (op !== '=' && op !== '!=') return false;
      return (a.v === (b as typeof a).v) === (op === '=');
    default:
      return false;
  }
}

function isNilLiteral(o: Operand): boolean {
  return o.type === 'static' && o.value.t === 'nil';
}

/** Reads one value of an operand for a span; undefined when absent. */
type Getter = (span: SpanView, summary: TraceSummary) => Value | undefined;
type Predicate = (span: SpanView, summary: TraceSummary) => boolean;

/**
 * An operand compiles to one getter, or two for an unscoped attribute (span, then resource):
 * a comparison holds when it holds for either.
 */
function compileOperand(o: Operand): Getter[] {
  switch (o.type) {
    case 'static': {
      const v = o.value;
      return [() => v];
    }
    case 'intrinsic': {
      const name = o.name;
      return [(span, summary) => {
        const v = intrinsicValue(name, span, summary);
        return v.t === 'nil' ? undefined : v;
      }];
    }
    case 'attribute': {
      const key = o.key;
      const fromSpan: Getter = (span) => {
        const a = findAttribute(span.attributes, key);
        return a ? attributeValue(a) : undefined;
      };
      const fromResource: Getter = (span) => {
        const a = resourceAttribute(span, key);
        return a ? attributeValue(a) : undefined;
      };
      if (o.scope === 'span') return [fromSpan];
      if (o.scope === 'resource') return [fromResource];
      return [fromSpan, fromResource];
    }
  }
}

function compile(e: FieldExpr): Predicate {
  switch (e.type) {
    case 'and': {
      const l = compile(e.left);
      const r = compile(e.right);
      return (span, summary) => l(span, summary) && r(span, summary);
    }
    case 'or': {
      const l = compile(e.left);
      const r = compile(e.right);
      return (span, summary) => l(span, summary) || r(span, summary);
    }
    case 'truthy': {
      const getters = compileOperand(e.operand);
      return (span, summary) => {
        for (const g of getters) {
          const v = g(span, summary);
          if (v !== undefined && v.t === 'bool' && v.v) return true;
        }
        return false;
      };
    }
    case 'compare': {
      const { op, regex } = e;
      const existence = isNilLiteral(e.right) ? e.left : isNilLiteral(e.left) ? e.right : null;
      if (existence) {
        const getters = compileOperand(existence);
        const wantPresent = op === '!=';
        return (span, summary) => {
          let present = false;
          for (const g of getters) if (g(span, summary) !== undefined) present = true;
          return present === wantPresent;
        };
      }
      const lefts = compileOperand(e.left);
      const rights = compileOperand(e.right);
      if (lefts.length === 1 && rights.length === 1) {
        const l = lefts[0]!;
        const r = rights[0]!;
        return (span, summary) => {
          const lv = l(span, summary);
          if (lv === undefined) return false;
          const rv = r(span, summary);
          return rv !== undefined && compareValues(lv, rv, op, regex);
        };
      }
      return (span, summary) => {
        for (const l of lefts) {
          const lv = l(span, summary);
          if (lv === undefined) continue;
          for (const r of rights) {
            const rv = r(span, summary);
            if (rv !== undefined && compareValues(lv, rv, op, regex)) return true;
          }
        }
        return false;
      };
    }
  }
}

const compiled = new WeakMap<TraceQLQuery, Predicate>();

function predicateOf(query: TraceQLQuery): Predicate {
  let p = compiled.get(query);
  if (!p) {
    const filter = query.filter;
    p = filter === null ? () => true : compile(filter);
    compiled.set(query, p);
  }
  return p;
}

export function spanMatches(query: TraceQLQuery, span: SpanView, summary: TraceSummary): boolean {
  return predicateOf(query)(span, summary);
}

/** The spans of `trace` that satisfy the filter, in the trace's span order; empty when none. */
export function matchingSpans(query: TraceQLQuery, trace: TraceView): SpanView[] {
  const p = predicateOf(query);
  const out: SpanView[] = [];
  for (const span of trace.spans) if (p(span, trace.summary)) out.push(span);
  return out;
}

/** Operands that name span fields (attributes and intrinsics) in the filter, for reporting matched values. */
export function referencedFields(query: TraceQLQuery): Operand[] {
  const seen = new Map<string, Operand>();
  const visit = (e: FieldExpr | null): void => {
    if (!e) return;
    if (e.type === 'and' || e.type === 'or') {
      visit(e.left);
      visit(e.right);
      return;
    }
    const ops = e.type === 'compare' ? [e.left, e.right] : [e.operand];
    for (const o of ops) {
      if (o.type === 'static') continue;
      const key = o.type === 'attribute' ? `${o.scope}.${o.key}` : o.name;
      if (!seen.has(key)) seen.set(key, o);
    }
  };
  visit(query.filter);
  return [...seen.values()];
}
