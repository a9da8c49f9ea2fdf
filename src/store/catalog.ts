/**
 * Autocomplete lists of a tenant (tag names and values, services, operations): from block
 * metadata plus a scan of the heads, bounded and sorted.
 */
import type { BlockMeta } from './block.js';
import type { TimeRange } from './block-set.js';
import type { Head } from './head.js';
import { tagValueOf } from './terms.js';
import type { SpanPart } from './trace-merge.js';
import type { TagValue } from './types.js';

const MAX_TAG_NAMES = 10_000;
const MAX_TAG_VALUES = 1_000;
const MAX_SERVICES = 10_000;
const MAX_OPERATIONS = 10_000;

export type Operation = { name: string; kind: number; service: string };

function* headSpans(heads: Head[], tenant: string): Iterable<SpanPart> {
  for (const h of heads) {
    const traces = h.tenants.get(tenant);
    if (!traces) continue;
    for (const t of traces.values()) yield* t.spans.values();
  }
}

function spanInRange(p: SpanPart, range?: TimeRange): boolean {
  return (range?.startNs === undefined || p.rec.endTimeUnixNano >= range.startNs)
    && (range?.endNs === undefined || p.rec.startTimeUnixNano <= range.endNs);
}

/** `blocks`: the tenant's blocks overlapping `range`. */
export function tagNames(blocks: BlockMeta[], heads: Head[], tenant: string, range?: TimeRange): { span: string[]; resource: string[] } {
  const span = new Set<string>();
  const resource = new Set<string>();
  for (const m of blocks) {
    for (const k of Object.keys(m.spanTags)) if (span.size < MAX_TAG_NAMES) span.add(k);
    for (const k of Object.keys(m.resourceTags)) if (resource.size < MAX_TAG_NAMES) resource.add(k);
  }
  for (const p of headSpans(heads, tenant)) {
    if (!spanInRange(p, range)) continue;
    for (const a of p.rec.attributes) if (span.size < MAX_TAG_NAMES) span.add(a.key);
    for (const a of p.res.attributes) if (resource.size < MAX_TAG_NAMES) resource.add(a.key);
  }
  return { span: [...span].sort(), resource: [...resource].sort() };
}

/** `blocks`: the tenant's blocks overlapping `range`. */
export function tagValues(blocks: BlockMeta[], heads: Head[], tenant: string, scope: 'span' | 'resource' | 'any', key: string, range?: TimeRange): TagValue[] {
  const out = new Map<string, TagValue>();
  const add = (tv: TagValue): void => {
    if (out.size < MAX_TAG_VALUES) out.set(tv.type + '\0' + tv.value, tv);
  };
  for (const m of blocks) {
    if (scope !== 'resource') for (const tv of m.spanTags[key] ?? []) add(tv);
    if (scope !== 'span') for (const tv of m.resourceTags[key] ?? []) add(tv);
  }
  for (const p of headSpans(heads, tenant)) {
    if (!spanInRange(p, range)) continue;
    if (scope !== 'resource') for (const a of p.rec.attributes) if (a.key === key) add(tagValueOf(a));
    if (scope !== 'span') for (const a of p.res.attributes) if (a.key === key) add(tagValueOf(a));
  }
  return [...out.values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** `blocks`: the tenant's blocks. */
export function services(blocks: BlockMeta[], heads: Head[], tenant: string): string[] {
  const out = new Set<string>();
  for (const m of blocks) for (const s of m.services) if (out.size < MAX_SERVICES) out.add(s);
  for (const p of headSpans(heads, tenant)) if (out.size < MAX_SERVICES) out.add(p.res.serviceName);
  return [...out].sort();
}

/** `blocks`: the tenant's blocks. */
export function operations(blocks: BlockMeta[], heads: Head[], tenant: string, service?: string): Operation[] {
  const out = new Map<string, Operation>();
  const add = (svc: string, name: string, kind: number): void => {
    if (service !== undefined && svc !== service) return;
    const k = svc + '\0' + name + '\0' + kind;
    if (out.size < MAX_OPERATIONS && !out.has(k)) out.set(k, { name, kind, service: svc });
  };
  for (const m of blocks) for (const [svc, name, kind] of m.operations) add(svc, name, kind);
  for (const p of headSpans(heads, tenant)) add(p.res.serviceName, p.rec.name, p.rec.kind);
  return [...out.values()].sort((a, b) => (a.service !== b.service ? (a.service < b.service ? -1 : 1) : a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.kind - b.kind));
}
