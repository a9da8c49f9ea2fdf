/**
 * Index terms: one canonical string per (kind, scope, key, value), shared by the block index
 * (postings) and the in-memory matcher, so pruning and brute force agree by construction.
 */
import type { AttrValue, IndexedAttribute, ResourceRef, SpanRecord } from '../otlp/model.js';
import type { IndexTerm, SpanView, TagValue } from './types.js';

/** Attribute values longer than this are not indexed; a term with such a value never prunes. */
export const MAX_INDEXED_VALUE_LENGTH = 256;

/** Numbers compare by value regardless of int/double/bigint encoding. */
export function canonicalValue(v: AttrValue | number | string | boolean): string {
  switch (typeof v) {
    case 'string': return 's' + v;
    case 'boolean': return v ? 'b1' : 'b0';
    case 'bigint': return 'n' + v.toString();
    case 'number': return 'n' + (Number.isInteger(v) && Math.abs(v) < 1e21 ? BigInt(v).toString() : String(v));
  }
}

export function valueIndexable(v: AttrValue | number | string | boolean): boolean {
  return typeof v !== 'string' || v.length <= MAX_INDEXED_VALUE_LENGTH;
}

export function serviceTerm(service: string): string { return 'S\0' + service; }
export function nameTerm(name: string): string { return 'N\0' + name; }
export function statusTerm(code: number): string { return 'C\0' + code; }
/** `scope` is 's' (span) or 'r' (resource). */
export function attrKeyPrefix(scope: 's' | 'r', key: string): string { return 'A' + scope + '\0' + key + '\0'; }
export function attrTerm(scope: 's' | 'r', key: string, v: AttrValue | number | string | boolean): string {
  return attrKeyPrefix(scope, key) + canonicalValue(v);
}

/**
 * The alternatives of one IndexTerm: a trace matches the term when it holds any of them.
 * Each alternative is [termString, attrKeyPrefix | null] (the prefix lets a block say "this key
 * was not indexed here", which disables pruning by it). Returns null when the term cannot prune.
 */
export function termAlternatives(t: IndexTerm): Array<[string, string | null]> | null {
  switch (t.kind) {
    case 'service': return valueIndexable(t.value) ? [[serviceTerm(t.value), null]] : null;
    case 'name': return valueIndexable(t.value) ? [[nameTerm(t.value), null]] : null;
    case 'status': return [[statusTerm(t.value), null]];
    case 'attr': {
      if (!valueIndexable(t.value)) return null;
      const scopes: Array<'s' | 'r'> = t.scope === 'span' ? ['s'] : t.scope === 'resource' ? ['r'] : ['s', 'r'];
      return scopes.map((s) => [attrTerm(s, t.key, t.value), attrKeyPrefix(s, t.key)]);
    }
  }
}

function attrsHave(attrs: IndexedAttribute[], key: string, canon: string): boolean {
  for (const a of attrs) if (a.key === key && canonicalValue(a.value) === canon) return true;
  return false;
}

/** Brute-force match of one span against one term (the same semantics as the index). */
export function spanMatchesTerm(span: SpanView, t: IndexTerm): boolean {
  switch (t.kind) {
    case 'service': return span.serviceName === t.value;
    case 'name': return span.name === t.value;
    case 'status': return span.statusCode === t.value;
    case 'attr': {
      const canon = canonicalValue(t.value);
      if (t.scope !== 'resource' && attrsHave(span.attributes, t.key, canon)) return true;
      if (t.scope !== 'span' && attrsHave(span.resourceAttributes, t.key, canon)) return true;
      return false;
    }
  }
}

/** spanMatchesTerm on a span as stored (record + resource), without building a SpanView. */
export function recordMatchesTerm(rec: SpanRecord, res: ResourceRef, t: IndexTerm): boolean {
  switch (t.kind) {
    case 'service': return res.serviceName === t.value;
    case 'name': return rec.name === t.value;
    case 'status': return rec.statusCode === t.value;
    case 'attr': {
      const canon = canonicalValue(t.value);
      if (t.scope !== 'resource' && attrsHave(rec.attributes, t.key, canon)) return true;
      if (t.scope !== 'span' && attrsHave(res.attributes, t.key, canon)) return true;
      return false;
    }
  }
}

export function tagValueOf(a: IndexedAttribute): TagValue {
  const v = a.value;
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'boolean') return { type: 'bool', value: String(v) };
  if (typeof v === 'bigint') return { type: 'int', value: v.toString() };
  if (a.isDouble || !Number.isInteger(v)) return { type: 'double', value: String(v) };
  return { type: 'int', value: String(v) };
}
