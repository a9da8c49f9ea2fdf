/**
 * Lazy candidate search over the memory heads and the sealed blocks of one tenant, most recent
 * first (trace start descending, then trace id ascending), deterministic.
 *
 * Each source (the heads, each block) yields candidate parts in that order; a heap merges them.
 * Blocks are opened only when the merge reaches their newest start time, so a query that needs
 * the 20 most recent traces touches the newest blocks only.
 *
 * A trace may be split over several parts (spans that arrived after its first part was sealed).
 * Pruning a part by its local spans would then be wrong, so the newest parts of split traces
 * (head traces that a block's bloom may hold, block entries flagged split at seal) are never
 * pruned; every candidate is then checked exactly on the merged trace. A merged trace starts no
 * later than any of its parts; if earlier, it goes back into the heap at its true position.
 */
import { MinHeap } from '../util/heap.js';
import type { Bloom } from './bloom.js';
import { compareTraces, FLAG_SPLIT, readDirEntry, SPLIT_POSTING, type BlockMeta } from './block.js';
import type { Head, HeadTrace } from './head.js';
import { recordMatchesTerm, spanMatchesTerm, termAlternatives } from './terms.js';
import { idKey, traceViewOf, type SpanPart } from './trace-merge.js';
import type { CandidateQuery, IndexTerm, TraceView } from './types.js';

export interface SearchSource {
  heads: Head[];
  /** The tenant's blocks at the time the search began. */
  blocks: ReadonlyMap<number, BlockMeta>;
  blooms: ReadonlyMap<number, Bloom>;
  loadDir(m: BlockMeta): Promise<Buffer | null>;
  /** Posting lists of several blocks in one call: result[i][j] is request i's term j. */
  postingsMany(requests: Array<{ blockId: number; terms: string[] }>): Promise<Array<Array<Buffer | undefined>>>;
  readView(m: BlockMeta, offset: number, length: number): Promise<SpanPart[] | null>;
  traceParts(tenant: string, traceId: Uint8Array, blocks: ReadonlyMap<number, BlockMeta>, heads: Head[]): Promise<SpanPart[]>;
  shards: number;
}

interface Candidate {
  start: bigint;
  traceId: Uint8Array;
  /** Set when this candidate is a block entry. */
  block?: BlockMeta;
  offset?: number;
  length?: number;
  /** Already merged and checked: emit as is. */
  view?: TraceView;
}

interface Cursor {
  current: Candidate | undefined;
  advance(): void;
}

class ListCursor implements Cursor {
  private i = 0;
  current: Candidate | undefined;
  constructor(private readonly items: Candidate[]) {
    this.current = items[0];
  }
  advance(): void {
    this.current = this.items[++this.i];
  }
}

class BlockCursor implements Cursor {
  private i = -1;
  current: Candidate | undefined;
  constructor(
    private readonly meta: BlockMeta,
    private readonly dir: Buffer,
    /** Candidate ordinals ascending; null means every ordinal. */
    private readonly ordinals: Uint32Array | null,
    private readonly onlySplit: boolean,
    private readonly accept: (start: bigint, end: bigint) => boolean,
  ) {
    this.advance();
  }
  advance(): void {
    const n = this.ordinals ? this.ordinals.length : this.meta.traceCount;
    const excluded = this.meta.excludedShards;
    while (++this.i < n) {
      const ord = this.ordinals ? this.ordinals[this.i]! : this.i;
      const e = readDirEntry(this.dir, ord);
      if (excluded.length && excluded.includes(e.shard)) continue;
      const split = (e.flags & FLAG_SPLIT) !== 0;
      if (this.onlySplit && !split) continue;
      if (!split && !this.accept(e.startNs, e.endNs)) continue;
      this.current = { start: e.startNs, traceId: e.traceId, block: this.meta, offset: e.offset, length: e.length };
      return;
    }
    this.current = undefined;
  }
}

/** Heap order of cursors: their current candidates in block order (compareTraces). */
function cursorBefore(a: Cursor, b: Cursor): boolean {
  const x = a.current;
  const y = b.current;
  if (!x || !y) throw new Error('search: exhausted cursor in the heap');
  return compareTraces(x.start, x.traceId, y.start, y.traceId) < 0;
}

function decodeOrdinals(b: Buffer | undefined): Uint32Array {
  if (!b) return new Uint32Array(0);
  const out = new Uint32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readUInt32LE(i * 4);
  return out;
}

function union(lists: Uint32Array[]): Uint32Array {
  if (lists.length === 1) return lists[0]!;
  const all = new Set<number>();
  for (const l of lists) for (const x of l) all.add(x);
  return Uint32Array.from(all).sort();
}

function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else { out.push(a[i]!); i++; j++; }
  }
  return Uint32Array.from(out);
}

function partsMatchAllTerms(parts: SpanPart[], terms: IndexTerm[]): boolean {
  for (const t of terms) {
    let found = false;
    for (const p of parts) {
      if (recordMatchesTerm(p.rec, p.res, t)) { found = true; break; }
    }
    if (!found) return false;
  }
  return true;
}

export function viewMatches(view: TraceView, q: CandidateQuery): boolean {
  const s = view.summary;
  if (q.startNs !== undefined && s.endTimeUnixNano < q.startNs) return false;
  if (q.endNs !== undefined && s.startTimeUnixNano > q.endNs) return false;
  const d = s.endTimeUnixNano - s.startTimeUnixNano;
  if (q.minTraceDurationNs !== undefined && d < q.minTraceDurationNs) return false;
  if (q.maxTraceDurationNs !== undefined && d > q.maxTraceDurationNs) return false;
  for (const t of q.requiredTerms ?? []) {
    if (!view.spans.some((sp) => spanMatchesTerm(sp, t))) return false;
  }
  return true;
}

const PREFETCH_BLOCKS = 64;

export async function* searchTraces(src: SearchSource, q: CandidateQuery): AsyncGenerator<TraceView> {
  const terms = q.requiredTerms ?? [];
  const accept = (start: bigint, end: bigint): boolean => {
    if (q.startNs !== undefined && end < q.startNs) return false;
    if (q.endNs !== undefined && start > q.endNs) return false;
    const d = end - start;
    if (q.minTraceDurationNs !== undefined && d < q.minTraceDurationNs) return false;
    if (q.maxTraceDurationNs !== undefined && d > q.maxTraceDurationNs) return false;
    return true;
  };
  const blockBlooms = [...src.blocks.values()].map((m) => ({ meta: m, bloom: src.blooms.get(m.id)! }));
  const inSomeBlock = (traceId: Uint8Array, except?: BlockMeta): boolean =>
    blockBlooms.some((b) => b.meta !== except && b.bloom.mayHave(traceId));

  // Heads: merge the frozen and live parts of each trace, prune unsplit traces locally.
  let newestBlock = 0;
  for (const id of src.blocks.keys()) if (id > newestBlock) newestBlock = id;
  // Blocks only ever get newer ids, so each head trace is checked against each block's Bloom once.
  const headMaybeInBlocks = (t: HeadTrace): boolean => {
    const from = t.blocksCheckedUpTo ?? 0;
    if (from < newestBlock) {
      if (!t.maybeInBlocks) t.maybeInBlocks = blockBlooms.some((b) => b.meta.id > from && b.bloom.mayHave(t.traceId));
      t.blocksCheckedUpTo = newestBlock;
    }
    return t.maybeInBlocks === true;
  };
  const headTraces = new Map<string, { traceId: Uint8Array; parts: SpanPart[]; start: bigint; end: bigint; split: boolean }>();
  for (const h of src.heads) {
    for (const [k, t] of h.tenants.get(q.tenant) ?? []) {
      let e = headTraces.get(k);
      if (!e) { e = { traceId: t.traceId, parts: [], start: t.startNs, end: t.endNs, split: false }; headTraces.set(k, e); }
      for (const p of t.spans.values()) e.parts.push(p);
      if (t.startNs < e.start) e.start = t.startNs;
      if (t.endNs > e.end) e.end = t.endNs;
      if (headMaybeInBlocks(t)) e.split = true;
    }
  }
  const headCandidates: Candidate[] = [];
  for (const e of headTraces.values()) {
    if (!e.split) {
      if (!accept(e.start, e.end)) continue;
      if (terms.length && !partsMatchAllTerms(e.parts, terms)) continue;
    }
    headCandidates.push({ start: e.start, traceId: e.traceId });
  }
  headCandidates.sort((a, b) => compareTraces(a.start, a.traceId, b.start, b.traceId));

  const heap = new MinHeap<Cursor>(cursorBefore);
  if (headCandidates.length) heap.push(new ListCursor(headCandidates));

  const order = [...src.blocks.values()].sort((a, b) => (a.maxStartNs > b.maxStartNs ? -1 : a.maxStartNs < b.maxStartNs ? 1 : a.id - b.id));
  /** Posting keys a block needs for this query ([] when every ordinal is a candidate). */
  const plan = (m: BlockMeta): { timePruned: boolean; termKeys: string[][]; flat: string[] } => {
    const timePruned = (q.startNs !== undefined && m.maxEndNs < q.startNs) || (q.endNs !== undefined && m.minStartNs > q.endNs);
    const termKeys: string[][] = [];
    if (!timePruned) {
      const unindexed = new Set(m.unindexedKeys);
      for (const t of terms) {
        const alts = termAlternatives(t);
        if (!alts || alts.some(([, prefix]) => prefix !== null && unindexed.has(prefix))) continue;
        termKeys.push(alts.map(([term]) => term));
      }
    }
    const flat = timePruned || termKeys.length ? [SPLIT_POSTING, ...termKeys.flat()] : [];
    return { timePruned, termKeys, flat };
  };
  // Posting lists are fetched for up to PREFETCH_BLOCKS blocks in one LevelDB call: a selective
  // query walks many blocks, and one round trip per block would dominate.
  // The batch grows 1, 2, 4, … so a query answered by the newest block fetches only its lists.
  const prefetched = new Map<number, Promise<Array<Buffer | undefined>>>();
  let batchSize = 1;
  const fetchPostings = (index: number): Promise<Array<Buffer | undefined>> => {
    const m = order[index]!;
    let p = prefetched.get(m.id);
    if (!p) {
      const batch: Array<{ blockId: number; terms: string[] }> = [];
      const limit = batchSize;
      batchSize = Math.min(PREFETCH_BLOCKS, batchSize * 2);
      for (let i = index; i < order.length && batch.length < limit; i++) {
        const b = order[i]!;
        if (prefetched.has(b.id)) break;
        const f = plan(b).flat;
        if (f.length) batch.push({ blockId: b.id, terms: f });
      }
      const all = src.postingsMany(batch);
      batch.forEach((r, i) => {
        const one = all.then((lists) => lists[i]!);
        one.catch(() => {}); // a search stopped early never awaits its prefetches: no unhandled rejection
        prefetched.set(r.blockId, one);
      });
      p = prefetched.get(m.id)!;
    }
    prefetched.delete(m.id);
    return p;
  };

  const openBlock = async (index: number): Promise<Cursor | null> => {
    const m = order[index]!;
    const { timePruned, termKeys, flat } = plan(m);
    let ordinals: Uint32Array | null = null;
    if (flat.length) {
      const lists = (await fetchPostings(index)).map(decodeOrdinals);
      const split = lists[0]!;
      if (timePruned) ordinals = split;
      else {
        let pos = 1;
        let acc: Uint32Array | null = null;
        for (const keys of termKeys) {
          const u = union(lists.slice(pos, pos + keys.length));
          pos += keys.length;
          acc = acc ? intersect(acc, u) : u;
        }
        ordinals = split.length ? union([acc!, split]) : acc!;
      }
      if (ordinals.length === 0) return null;
    }
    const dir = await src.loadDir(m);
    if (!dir) return null;
    const c = new BlockCursor(m, dir, ordinals, timePruned, accept);
    return c.current ? c : null;
  };

  const seen = new Set<string>();
  let next = 0;
  for (;;) {
    while (next < order.length && (heap.size === 0 || order[next]!.maxStartNs >= heap.peek()!.current!.start)) {
      const c = await openBlock(next++);
      if (c) heap.push(c);
    }
    const cur = heap.pop();
    if (!cur) return;
    const cand = cur.current!;
    cur.advance();
    if (cur.current) heap.push(cur);
    if (cand.view) {
      yield cand.view;
      continue;
    }
    const key = idKey(cand.traceId);
    if (seen.has(key)) continue;
    seen.add(key);
    let parts: SpanPart[] | null;
    if (cand.block && !inSomeBlock(cand.traceId, cand.block)) {
      // The common case: one block part, maybe more spans in the heads.
      parts = await src.readView(cand.block, cand.offset!, cand.length!);
      if (parts) for (const h of src.heads) {
        const t = h.get(q.tenant, key);
        if (t) for (const p of t.spans.values()) parts.push(p);
      }
    } else {
      parts = await src.traceParts(q.tenant, cand.traceId, src.blocks, src.heads);
    }
    if (!parts || parts.length === 0) continue;
    const view = traceViewOf(cand.traceId, parts);
    if (!viewMatches(view, q)) continue;
    if (view.summary.startTimeUnixNano < cand.start) {
      heap.push(new ListCursor([{ start: view.summary.startTimeUnixNano, traceId: cand.traceId, view }]));
      continue;
    }
    yield view;
  }
}
