/**
 * Fixed-size bitset of linearized operations with an incrementally maintained Zobrist hash, so the
 * memo cache can look a (set, state) pair up without rehashing the whole set at every step.
 */
export class LinearizedSet {
  readonly words: Uint32Array;
  /** Two independent 32-bit halves: XOR of the per-bit random keys of every set bit. */
  hashHigh = 0;
  hashLow = 0;

  constructor(
    readonly size: number,
    private readonly keys: ZobristKeys,
  ) {
    if (keys.size < size) throw new Error(`zobrist keys for ${keys.size} bits, need ${size}`);
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  has(bit: number): boolean {
    return (this.words[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  set(bit: number): void {
    if (this.has(bit)) throw new Error(`bit ${bit} already set`);
    this.words[bit >>> 5]! |= 1 << (bit & 31);
    this.toggleHash(bit);
  }

  clear(bit: number): void {
    if (!this.has(bit)) throw new Error(`bit ${bit} not set`);
    this.words[bit >>> 5]! &= ~(1 << (bit & 31));
    this.toggleHash(bit);
  }

  private toggleHash(bit: number): void {
    this.hashHigh ^= this.keys.high[bit]!;
    this.hashLow ^= this.keys.low[bit]!;
  }
}

/** Per-bit random keys; a seeded generator keeps runs reproducible. */
export class ZobristKeys {
  readonly high: Uint32Array;
  readonly low: Uint32Array;

  constructor(readonly size: number) {
    this.high = new Uint32Array(size);
    this.low = new Uint32Array(size);
    let seed = 0x9e3779b9;
    const next = (): number => {
      // xorshift32: plenty for hashing, deterministic.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let i = 0; i < size; i++) {
      this.high[i] = next();
      this.low[i] = next();
    }
  }
}
