/**
 * Retention decisions: whole blocks by ingest (arrival) time, per tenant. The store acts on them
 * (seal the head, drop the blocks).
 */
import type { BlockMeta } from './block.js';
import type { Head } from './head.js';
import type { RetentionConfig } from './types.js';

export function retentionMs(retention: RetentionConfig, tenant: string): number {
  return retention.perTenantMs?.[tenant] ?? retention.defaultMs;
}

/** Whether any head holds a tenant's data older than that tenant's retention at `now`. */
export function headHasExpired(heads: Head[], retention: RetentionConfig, now: number): boolean {
  let expired = false;
  for (const h of heads) {
    for (const tenant of h.tenants.keys()) if (h.minIngestMs < now - retentionMs(retention, tenant)) expired = true;
  }
  return expired;
}

/** Blocks whose newest ingest time is past their tenant's retention at `now`. */
export function expiredBlocks(blocks: Iterable<BlockMeta>, retention: RetentionConfig, now: number): BlockMeta[] {
  const out: BlockMeta[] = [];
  for (const m of blocks) if (m.maxIngestMs < now - retentionMs(retention, m.tenant)) out.push(m);
  return out;
}
