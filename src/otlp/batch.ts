/**
 * SpanBatch <-> encoded TracesData. This is how batches travel between nodes and into Raft log
 * entries: encoding concatenates the raw span / resource / scope slices (no per-field work),
 * decoding is the same lazy scan that ingest uses.
 */
import { encodeTracesData, type ResourceGroup, type ScopeGroup } from './assemble.js';
import { OtlpDecodeError, type ResourceRef, type ScopeRef, type SpanBatch, type SpanRecord } from './model.js';
import { scanExportTraceRequest } from './scan.js';

/**
 * Groups spans by resource, then scope, in order of first appearance; resources and scopes that
 * no span uses are left out.
 */
export function groupSpanBatch(batch: SpanBatch): ResourceGroup[] {
  const groups: ResourceGroup[] = [];
  const byResource = new Map<number, { group: ResourceGroup; scopes: Map<number, ScopeGroup> }>();
  for (const span of batch.spans) {
    const resource = batch.resources[span.resource];
    const scope = batch.scopes[span.scope];
    if (!resource || !scope) {
      throw new Error(`SpanBatch invariant: span refers to resource ${span.resource} / scope ${span.scope} that does not exist`);
    }
    let r = byResource.get(span.resource);
    if (!r) {
      r = { group: { resource, scopes: [] }, scopes: new Map() };
      byResource.set(span.resource, r);
      groups.push(r.group);
    }
    let s = r.scopes.get(span.scope);
    if (!s) {
      s = { scope, spans: [] };
      r.scopes.set(span.scope, s);
      r.group.scopes.push(s);
    }
    s.spans.push(span.bytes);
  }
  return groups;
}

/** Encodes a batch as TracesData (== ExportTraceServiceRequest == Tempo's Trace on the wire). */
export function encodeSpanBatch(batch: SpanBatch): Uint8Array {
  return encodeTracesData(groupSpanBatch(batch));
}

/**
 * Decodes what encodeSpanBatch wrote. The spans come back as slices of `bytes`. A batch is
 * internal data that was validated on ingest, so an invalid span in it is an error here.
 */
export function decodeSpanBatch(bytes: Uint8Array): SpanBatch {
  const { batch, rejected } = scanExportTraceRequest(bytes);
  if (rejected.count > 0) {
    throw new OtlpDecodeError(`span batch holds ${rejected.count} invalid spans: ${rejected.messages.join('; ')}`);
  }
  return batch;
}

/**
 * Splits a batch by `keyOf(span)` (e.g. its shard). Each part keeps only the resources and scopes
 * its spans use, re-indexed; spans keep their relative order.
 */
export function splitBatch(batch: SpanBatch, keyOf: (span: SpanRecord) => number): Map<number, SpanBatch> {
  const parts = new Map<number, { batch: SpanBatch; resourceIndex: Map<number, number>; scopeIndex: Map<number, number> }>();
  for (const span of batch.spans) {
    const key = keyOf(span);
    let part = parts.get(key);
    if (!part) {
      part = { batch: { resources: [], scopes: [], spans: [] }, resourceIndex: new Map(), scopeIndex: new Map() };
      parts.set(key, part);
    }
    let r = part.resourceIndex.get(span.resource);
    if (r === undefined) {
      const ref: ResourceRef | undefined = batch.resources[span.resource];
      if (!ref) throw new Error(`SpanBatch invariant: span refers to resource ${span.resource} that does not exist`);
      r = part.batch.resources.length;
      part.batch.resources.push(ref);
      part.resourceIndex.set(span.resource, r);
    }
    let s = part.scopeIndex.get(span.scope);
    if (s === undefined) {
      const ref: ScopeRef | undefined = batch.scopes[span.scope];
      if (!ref) throw new Error(`SpanBatch invariant: span refers to scope ${span.scope} that does not exist`);
      s = part.batch.scopes.length;
      part.batch.scopes.push(ref);
      part.scopeIndex.set(span.scope, s);
    }
    part.batch.spans.push(r === span.resource && s === span.scope ? span : { ...span, resource: r, scope: s });
  }
  const out = new Map<number, SpanBatch>();
  for (const [key, part] of parts) out.set(key, part.batch);
  return out;
}
