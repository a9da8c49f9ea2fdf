/**
 * Lifeguard local health awareness: a score that rises when this node misses acks and nacks it
 * should have received (a sign that *we* are slow or cut off) and falls with successful probes.
 * Probe intervals and timeouts are multiplied by score + 1, so an unhealthy node probes less
 * aggressively and is slower to accuse others.
 */
export class Awareness {
  private score = 0;

  constructor(private readonly maxMultiplier: number) {
    if (!(maxMultiplier >= 1)) throw new Error('awareness max multiplier must be >= 1');
  }

  applyDelta(delta: number): void {
    this.score = Math.min(this.maxMultiplier - 1, Math.max(0, this.score + delta));
  }

  getScore(): number {
    return this.score;
  }

  scale(timeoutMs: number): number {
    return timeoutMs * (this.score + 1);
  }
}
