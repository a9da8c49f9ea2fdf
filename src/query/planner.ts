/**
 * Search planning: turns request parameters (TraceQL `q`, legacy `tags`, durations, time range,
 * limits) into a CandidateQuery for the store's index plus the full predicate to evaluate on each
 * candidate. Only conditions that every match must satisfy become index terms: equality on a
 * path of `&&` (never under `||`), so pruning can never drop a true match.
 */
import { NO_SERVICE_NAME } from './service-name.js';
import type { CandidateQuery, IndexTerm } from '../store/types.js';
import type { FieldExpr, Operand, TraceQLQuery } from './traceql/ast.js';
import { QueryError } from './errors.js';

export interface TagCondition {
  key: string;
  value: string;
}

export interface SearchPlan {
  query: TraceQLQuery | null;
  /** Legacy tag conditions: each must be satisfied by some span of the trace. */
  tags: TagCondition[];
  startNs?: bigint;
  endNs?: bigint;
  minTraceDurationNs?: bigint;
  maxTraceDurationNs?: bigint;
  limit: number;
  /** Spans per spanset in the response; 0 means all. */
  spss: number;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function termFromComparison(attr: Operand, value: Operand): IndexTerm | null {
  if (value.type !== 'static') return null;
  const v = value.value;
  if (attr.type === 'intrinsic') {
    if (attr.name === 'name' && v.t === 'string') return { kind: 'name', value: v.v };
    if (attr.name === 'status' && v.t === 'status') return { kind: 'status', value: v.v };
    return null;
  }
  if (attr.type !== 'attribute') return null;
  if (attr.scope === 'resource' && attr.key === 'service.name' && v.t === 'string') return { kind: 'service', value: v.v };
  if (v.t === 'string' || v.t === 'bool') return { kind: 'attr', scope: attr.scope, key: attr.key, value: v.v };
  if (v.t === 'int' && v.v <= MAX_SAFE && v.v >= -MAX_SAFE) return { kind: 'attr', scope: attr.scope, key: attr.key, value: Number(v.v) };
  // Floats are left to the evaluator: an index keyed by value could disagree on 3 vs 3.0.
  return null;
}

/** Equality terms that hold on every match of `filter` (a conjunction path), deduplicated. */
export function requiredTerms(filter: FieldExpr | null): IndexTerm[] {
  const out: IndexTerm[] = [];
  for (const e of conjuncts(filter)) {
    if (e.type !== 'compare' || e.op !== '=') continue; // `||`, `!=`, ranges, regexes: no safe term
    const term = termFromComparison(e.left, e.right) ?? termFromComparison(e.right, e.left);
    if (term && !out.some((t) => JSON.stringify(t) === JSON.stringify(term))) out.push(term);
  }
  return out;
}

/** The operands of the top-level `&&` chain of `filter`: each holds on every match. */
function* conjuncts(e: FieldExpr | null): Iterable<FieldExpr> {
  if (!e) return;
  if (e.type === 'and') {
    yield* conjuncts(e.left);
    yield* conjuncts(e.right);
  } else yield e;
}

/** traceDuration bounds on a conjunction path (inclusive, so pruning stays a superset). */
export function traceDurationBounds(filter: FieldExpr | null): { min?: bigint; max?: bigint } {
  const bounds: { min?: bigint; max?: bigint } = {};
  for (const e of conjuncts(filter)) {
    if (e.type !== 'compare') continue;
    let op = e.op;
    let field = e.left;
    let value = e.right;
    if (field.type === 'static') {
      [field, value] = [value, field];
      const flip: Record<string, typeof op> = { '>': '<', '<': '>', '>=': '<=', '<=': '>=' };
      op = flip[op] ?? op;
    }
    if (!(field.type === 'intrinsic' && field.name === 'traceDuration' && value.type === 'static' && value.value.t === 'duration')) continue;
    const ns = value.value.v;
    if (op === '>' || op === '>=' || op === '=') bounds.min = bounds.min === undefined || ns > bounds.min ? ns : bounds.min;
    if (op === '<' || op === '<=' || op === '=') bounds.max = bounds.max === undefined || ns < bounds.max ? ns : bounds.max;
  }
  return bounds;
}

/** Index terms for legacy tags: only the special keys whose index meaning is exact. */
export function tagTerms(tags: TagCondition[]): IndexTerm[] {
  const out: IndexTerm[] = [];
  for (const { key, value } of tags) {
    if (key === 'service.name') {
      // The name shown for resources without a service is not indexed: no pruning for it.
      if (value !== NO_SERVICE_NAME) out.push({ kind: 'service', value });
    }
    else if (key === 'name') out.push({ kind: 'name', value });
    else if (key === 'status' || key === 'status.code') {
      const code = ({ unset: 0, ok: 1, error: 2 } as Record<string, number>)[value.toLowerCase()];
      if (code !== undefined) out.push({ kind: 'status', value: code });
    }
    // Other tags compare by string form, which an attribute index keyed by typed value cannot prune safely.
  }
  return out;
}

function maxBigint(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}
function minBigint(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

export function candidateQuery(tenant: string, plan: SearchPlan): CandidateQuery {
  const terms = [...requiredTerms(plan.query?.filter ?? null), ...tagTerms(plan.tags)];
  const bounds = traceDurationBounds(plan.query?.filter ?? null);
  const q: CandidateQuery = { tenant };
  if (plan.startNs !== undefined) q.startNs = plan.startNs;
  if (plan.endNs !== undefined) q.endNs = plan.endNs;
  if (terms.length) q.requiredTerms = terms;
  const min = maxBigint(plan.minTraceDurationNs, bounds.min);
  const max = minBigint(plan.maxTraceDurationNs, bounds.max);
  if (min !== undefined) q.minTraceDurationNs = min;
  if (max !== undefined) q.maxTraceDurationNs = max;
  return q;
}

/**
 * Parses a logfmt tag list as Tempo's `tags` parameter: `key=value key2="value 2"`.
 * Duplicate keys are an error, as in Tempo.
 */
export function parseLogfmt(text: string): TagCondition[] {
  const out: TagCondition[] = [];
  let i = 0;
  const s = text;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let key = '';
    while (i < s.length && s[i] !== '=' && !/\s/.test(s[i]!)) key += s[i++];
    if (key === '') throw new QueryError(`invalid tags "${text}": empty key at position ${i + 1}`);
    let value = '';
    if (s[i] === '=') {
      i++;
      if (s[i] === '"') {
        i++;
        let closed = false;
        while (i < s.length) {
          const c = s[i]!;
          if (c === '\\' && i + 1 < s.length) {
            value += s[i + 1];
            i += 2;
            continue;
          }
          if (c === '"') {
            closed = true;
            i++;
            break;
          }
          value += c;
          i++;
        }
        if (!closed) throw new QueryError(`invalid tags "${text}": unterminated quoted value for "${key}"`);
      } else {
        while (i < s.length && !/\s/.test(s[i]!)) value += s[i++];
      }
    }
    if (out.some((t) => t.key === key)) throw new QueryError(`invalid tags "${text}": duplicate key "${key}"`);
    out.push({ key, value });
  }
  return out;
}
