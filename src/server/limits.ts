/**
 * Admission control for ingest: a bound on requests and on decompressed bytes being processed at
 * once. A request that does not fit is refused (429 / UNAVAILABLE with a retry hint) instead of
 * queued, so memory stays bounded however many clients push at once.
 */
export class InflightLimiter {
  private requests = 0;
  private bytes = 0;

  constructor(
    readonly maxRequests: number,
    readonly maxBytes: number,
  ) {
    if (!(maxRequests > 0 && maxBytes > 0)) throw new RangeError('inflight limits must be positive');
  }

  /** Takes a request slot; false when the request bound is reached. */
  tryAcquireRequest(): boolean {
    if (this.requests >= this.maxRequests) return false;
    this.requests++;
    return true;
  }

  /** Takes a request slot or throws NodeBusyError (429 / UNAVAILABLE with a retry hint). */
  acquireRequest(): void {
    if (!this.tryAcquireRequest()) throw new NodeBusyError(`too many ingest requests in flight (limit ${this.maxRequests})`, 1000);
  }

  releaseRequest(): void {
    if (this.requests <= 0) throw new Error('InflightLimiter: releaseRequest without acquire');
    this.requests--;
  }

  /**
   * Reserves body bytes. A lone request is always admitted (its size is already capped by the
   * body limit), so a limit below the body limit cannot starve every request.
   */
  tryAcquireBytes(n: number): boolean {
    if (this.bytes > 0 && this.bytes + n > this.maxBytes) return false;
    this.bytes += n;
    return true;
  }

  /** Reserves body bytes or throws NodeBusyError (429 / UNAVAILABLE with a retry hint). */
  acquireBytes(n: number): void {
    if (!this.tryAcquireBytes(n)) throw new NodeBusyError(`too many ingest bytes in flight (limit ${this.maxBytes})`, 1000);
  }

  releaseBytes(n: number): void {
    if (n > this.bytes) throw new Error(`InflightLimiter: releasing ${n} bytes, only ${this.bytes} held`);
    this.bytes -= n;
  }

  get inflightRequests(): number {
    return this.requests;
  }
  get inflightBytes(): number {
    return this.bytes;
  }
}

/** Raised when the node refuses work for now: shutting down, or an in-flight bound is reached. */
export class NodeBusyError extends Error {
  override name = 'NodeBusyError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    /** true when the node is going away (503 instead of 429). */
    readonly unavailable = false,
  ) {
    super(message);
  }
}
