/**
 * Runs a search against the store: walks candidate traces most recent first (the store's order,
 * which is deterministic), keeps those the predicate accepts, stops at `limit` matches or after
 * `maxInspectedTraces` candidates, whichever comes first.
 */
import type { CandidateQuery, SpanView, Store, TraceView } from '../store/types.js';
import { matchingSpans } from './traceql/evaluate.js';
import { spanHasTag } from './tags.js';
import type { SearchPlan } from './planner.js';
import { candidateQuery } from './planner.js';

export interface TraceMatch {
  trace: TraceView;
  /** Spans that satisfied the span-level filter (all spans when there is none). */
  matched: SpanView[];
}

export interface SearchOutcome {
  matches: TraceMatch[];
  inspectedTraces: number;
  inspectedSpans: number;
  /** Why the scan stopped before exhausting candidates and reaching `limit`, if it did. */
  truncated: false | 'maxInspectedTraces' | 'deadline' | 'aborted';
}

/** Bounds on one scan. Every field is optional; defaults bound the work of a single request. */
export interface ScanBounds {
  maxInspectedTraces?: number;
  /** Stop scanning (returning what was found) after this long. */
  maxDurationMs?: number;
  /** Stop when the client has gone away. */
  signal?: AbortSignal;
  /** Clock in ms (injectable for tests). */
  now?: () => number;
}

/** Returns the matched spans of a trace, or null when the trace does not match. */
export type TracePredicate = (trace: TraceView) => SpanView[] | null;

export const DEFAULT_MAX_INSPECTED_TRACES = 1_000_000;
export const DEFAULT_MAX_SEARCH_DURATION_MS = 30_000;

export function traceDurationNs(trace: TraceView): bigint {
  return trace.summary.endTimeUnixNano - trace.summary.startTimeUnixNano;
}

/** Time-range and duration checks the store is asked to apply, re-checked here so results never depend on pruning. */
export function withinCandidateBounds(trace: TraceView, q: CandidateQuery): boolean {
  const s = trace.summary;
  if (q.startNs !== undefined && s.endTimeUnixNano < q.startNs) return false;
  if (q.endNs !== undefined && s.startTimeUnixNano > q.endNs) return false;
  const d = traceDurationNs(trace);
  if (q.minTraceDurationNs !== undefined && d < q.minTraceDurationNs) return false;
  if (q.maxTraceDurationNs !== undefined && d > q.maxTraceDurationNs) return false;
  return true;
}

export async function collectMatches(
  store: Store,
  q: CandidateQuery,
  predicate: TracePredicate,
  limit: number,
  bounds: ScanBounds = {},
): Promise<SearchOutcome> {
  if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`collectMatches: limit must be a positive integer, got ${limit}`);
  const maxInspected = bounds.maxInspectedTraces ?? DEFAULT_MAX_INSPECTED_TRACES;
  const now = bounds.now ?? Date.now;
  const deadline = now() + (bounds.maxDurationMs ?? DEFAULT_MAX_SEARCH_DURATION_MS);
  const outcome: SearchOutcome = { matches: [], inspectedTraces: 0, inspectedSpans: 0, truncated: false };
  for await (const trace of store.searchTraces(q)) {
    if (outcome.inspectedTraces >= maxInspected) {
      outcome.truncated = 'maxInspectedTraces';
      break;
    }
    if (bounds.signal?.aborted) {
      outcome.truncated = 'aborted';
      break;
    }
    if (now() > deadline) {
      outcome.truncated = 'deadline';
      break;
    }
    outcome.inspectedTraces++;
    outcome.inspectedSpans += trace.spans.length;
    if (!withinCandidateBounds(trace, q)) continue;
    const matched = predicate(trace);
    if (matched === null) continue;
    outcome.matches.push({ trace, matched });
    if (outcome.matches.length >= limit) break;
  }
  return outcome;
}

/** The Tempo search predicate: legacy tags (each by some span) and the TraceQL spanset filter. */
export function tempoPredicate(plan: SearchPlan): TracePredicate {
  return (trace) => {
    for (const tag of plan.tags) {
      if (!trace.spans.some((span) => spanHasTag(span, tag.key, tag.value, { nameIsSpanName: true }))) return null;
    }
    if (plan.query) {
      const matched = matchingSpans(plan.query, trace);
      return matched.length ? matched : null;
    }
    return trace.spans;
  };
}

export async function runTempoSearch(store: Store, tenant: string, plan: SearchPlan, bounds: ScanBounds = {}): Promise<SearchOutcome> {
  return collectMatches(store, candidateQuery(tenant, plan), tempoPredicate(plan), plan.limit, bounds);
}

/**
 * An AbortSignal that fires when the connection closes before the response was written. Takes the
 * ServerResponse (reply.raw): its 'close' with writableEnded false means the client went away.
 */
function clientGone(raw: { once(event: 'close', f: () => void): unknown; writableEnded: boolean }): AbortSignal {
  const controller = new AbortController();
  raw.once('close', () => {
    if (!raw.writableEnded) controller.abort();
  });
  return controller.signal;
}

/** The bounds of one HTTP request's scan: the API's configured limits, stopping when the client goes away. */
export function requestScanBounds(
  raw: Parameters<typeof clientGone>[0],
  limits: { maxInspectedTraces?: number; maxSearchDurationMs?: number },
): ScanBounds {
  const bounds: ScanBounds = { signal: clientGone(raw) };
  if (limits.maxInspectedTraces !== undefined) bounds.maxInspectedTraces = limits.maxInspectedTraces;
  if (limits.maxSearchDurationMs !== undefined) bounds.maxDurationMs = limits.maxSearchDurationMs;
  return bounds;
}
