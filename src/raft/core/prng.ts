/**
 * A small seeded PRNG (SplitMix32-style mixing over a 32-bit counter). The core never draws
 * randomness itself; hosts pass `random` in the config, seeded from a simulation seed or, in
 * production, from crypto.
 */
export type Random = () => number; // uniform in [0, 1)

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 0x1_0000_0000;
  };
}

/** Integer in [lo, hi). */
export function randomInt(random: Random, lo: number, hi: number): number {
  if (!(hi > lo)) throw new Error(`randomInt: empty range [${lo}, ${hi})`);
  return lo + Math.floor(random() * (hi - lo));
}
