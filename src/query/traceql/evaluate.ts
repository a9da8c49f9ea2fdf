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

export function attributeValue(attr: IndexedAttribute): Value {
  const v = attr.value;
  if (typeof v === 'string') return { t: 'string', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (typeof v === 'bigint') return { t: 'int', v };
  if (attr.isDouble || !Number.isInteger(v)) return { t: 'float', v };
  return { t: 'int', v: BigInt(v) };
}

function findAttribute(attrs: IndexedAttribute[], key: string): IndexedAttribute | undefined {
  for (const a of attrs) if (a.key === key) return a;
  return undefined;
}

/** The candidate values of an operand for one span (unscoped attributes can have two). */
function operandValues(o: Operand, span: SpanView, summary: TraceSummary): Value[] {
  switch (o.type) {
    case 'static':
      return [o.value];
    case 'intrinsic':
      return [intrinsicValue(o.name, span, summary)];
    case 'attribute': {
      const out: Value[] = [];
      if (o.scope === 'span' || o.scope === 'any') {
        const a = findAttribute(span.attributes, o.key);
        if (a) out.push(attributeValue(a));
      }
      if (o.scope === 'resource' || o.scope === 'any') {
        const a = findAttribute(span.resourceAttributes, o.key);
        if (a) out.push(attributeValue(a));
        else if (o.key === 'service.name' && span.serviceName !== '') out.push({ t: 'string', v: span.serviceName });
      }
      return out.length ? out : [NIL];
    }
  }
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

function evalExpr(e: FieldExpr, span: SpanView, summary: TraceSummary): boolean {
  switch (e.type) {
    case 'and':
      return evalExpr(e.left, span, summary) && evalExpr(e.right, span, summary);
    case 'or':
      return evalExpr(e.left, span, summary) || evalExpr(e.right, span, summary);
    case 'truthy':
      return operandValues(e.operand, span, summary).some((v) => v.t === 'bool' && v.v);
    case 'compare': {
      const nilLiteral = isNilLiteral(e.right) ? e.left : isNilLiteral(e.left) ? e.right : null;
      if (nilLiteral) {
        const present = operandValues(nilLiteral, span, summary).some((v) => v.t !== 'nil');
        return e.op === '!=' ? present : !present;
      }
      const lefts = operandValues(e.left, span, summary);
      const rights = operandValues(e.right, span, summary);
      for (const l of lefts) for (const r of rights) if (compareValues(l, r, e.op, e.regex)) return true;
      return false;
    }
  }
}

export function spanMatches(query: TraceQLQuery, span: SpanView, summary: TraceSummary): boolean {
  return query.filter === null || evalExpr(query.filter, span, summary);
}

/** The spans of `trace` that satisfy the filter, in the trace's span order; empty when none. */
export function matchingSpans(query: TraceQLQuery, trace: TraceView): SpanView[] {
  const out: SpanView[] = [];
  for (const span of trace.spans) if (spanMatches(query, span, trace.summary)) out.push(span);
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
