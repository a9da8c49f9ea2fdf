/** A Bloom filter over trace ids: which blocks may hold a trace, without touching disk. */

const BITS_PER_KEY = 16; // ≈0.05 % false positives with 11 probes
const PROBES = 11;

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
  constructor(readonly bits: Uint8Array) {
    if (bits.length === 0) throw new RangeError('bloom filter needs at least one byte');
  }

  static forKeys(count: number): Bloom {
    return new Bloom(new Uint8Array(Math.max(8, Math.ceil((count * BITS_PER_KEY) / 8))));
  }

  add(id: Uint8Array): void {
    const m = this.bits.length * 8;
    const [h1, h2] = hashes(id);
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const b = bit % m;
      this.bits[b >>> 3]! |= 1 << (b & 7);
    }
  }

  mayHave(id: Uint8Array): boolean {
    const m = this.bits.length * 8;
    const [h1, h2] = hashes(id);
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const b = bit % m;
      if ((this.bits[b >>> 3]! & (1 << (b & 7))) === 0) return false;
    }
    return true;
  }
}
