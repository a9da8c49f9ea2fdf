/** A Bloom filter over trace ids: which blocks may hold a trace, without touching disk. */

/**
 * ≈0.001 % false positives per block. A lookup consults every block of a tenant, so the rate
 * that matters is this times the block count (a few hundred blocks: well under 1 %).
 */
const BITS_PER_KEY = 24;
export const DEFAULT_PROBES = 16;

function hashes(id: Uint8Array): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    h1 = Math.imul(h1 ^ id[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ id[i]!, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return [h1 >>> 0, (h2 >>> 0) | 1];
}

export class Bloom {
  constructor(readonly bits: Uint8Array, readonly probes = DEFAULT_PROBES) {
    if (bits.length === 0) throw new RangeError('bloom filter needs at least one byte');
    if (!(Number.isInteger(probes) && probes > 0 && probes <= 32)) throw new RangeError(`bloom probes must be 1..32, got ${probes}`);
  }

  static forKeys(count: number): Bloom {
    return new Bloom(new Uint8Array(Math.max(8, Math.ceil((count * BITS_PER_KEY) / 8))));
  }

  add(id: Uint8Array): void {
    const m = this.bits.length * 8;
    const [h1, h2] = hashes(id);
    for (let i = 0; i < this.probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const b = bit % m;
      this.bits[b >>> 3]! |= 1 << (b & 7);
    }
  }

  mayHave(id: Uint8Array): boolean {
    const m = this.bits.length * 8;
    const [h1, h2] = hashes(id);
    for (let i = 0; i < this.probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const b = bit % m;
      if ((this.bits[b >>> 3]! & (1 << (b & 7))) === 0) return false;
    }
    return true;
  }
}
