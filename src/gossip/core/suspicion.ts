/**
 * Lifeguard dynamic suspicion timeout. A suspicion starts at `max` and shrinks towards `min` as
 * independent members confirm it (memberlist's formula):
 *   timeout(C) = max(min, max − (max − min) · log(C + 1) / log(K + 1))
 * K is the number of confirmations expected before the minimum is reached.
 */
export function suspicionTimeoutMs(suspicionMult: number, clusterSize: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, clusterSize)));
  return suspicionMult * nodeScale * probeIntervalMs;
}

export function dynamicTimeoutMs(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k <= 0) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const raw = maxMs - frac * (maxMs - minMs);
  return Math.max(minMs, Math.floor(raw));
}

export class Suspicion {
  private readonly confirmers = new Set<string>();
  private confirmations = 0;
  /** This node itself failed to reach the suspect (it is the accuser or one of its own probes failed). */
  selfWitnessed = false;
  /** A verification probe for a hearsay-only suspicion is under way. */
  verifying = false;

  constructor(
    readonly incarnation: number,
    readonly startMs: number,
    from: string,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
  ) {
    if (minMs > maxMs) throw new Error('suspicion min timeout exceeds max');
    // The first accuser never counts as a confirmation of itself.
    this.confirmers.add(from);
  }

  /** Records an independent confirmation; true if it was new (and worth re-broadcasting). */
  confirm(from: string): boolean {
    if (this.confirmations >= this.k || this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    this.confirmations++;
    return true;
  }

  deadlineMs(): number {
    return this.startMs + dynamicTimeoutMs(this.confirmations, this.k, this.minMs, this.maxMs);
  }

  get confirmationCount(): number {
    return this.confirmations;
  }
}
