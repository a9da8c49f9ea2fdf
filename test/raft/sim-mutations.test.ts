import { describe, expect, it } from 'vitest';
import { ALL_MUTATIONS, type Mutation } from '../../src/raft/core/index.js';
import { runSeed, type SimOptions } from '../../src/raft/sim/simulator.js';

/**
 * Each planted bug must be found by the simulator within a bounded number of seeds, and the seed
 * that finds it must pass without the bug (so the violation is the bug's, not the simulator's).
 * Seeds 1..2000 also pass unmutated in sim.test.ts.
 */
const SEED_BOUND: Record<Mutation, number> = {
  commitOldTerm: 600,
  doubleVote: 100,
  replyBeforePersist: 100,
  applyBeforeCommit: 100,
  skipPrevCheck: 300,
  readWithoutQuorum: 400,
  confChangeBeforeOwnTermCommit: 800,
};

const PROFILE: Partial<Record<Mutation, Omit<SimOptions, 'seed'>>> = {};

describe('raft simulator finds planted bugs', () => {
  expect(Object.keys(SEED_BOUND).sort()).toEqual([...ALL_MUTATIONS].sort());
  for (const mutation of ALL_MUTATIONS) {
    it(`finds ${mutation}`, () => {
      const profile = PROFILE[mutation] ?? {};
      let found: { seed: number; message: string } | null = null;
      for (let seed = 1; seed <= SEED_BOUND[mutation] && !found; seed++) {
        const r = runSeed({ ...profile, seed, mutations: [mutation] });
        if (!r.ok) found = { seed, message: r.violation!.message };
      }
      expect(found, `${mutation} not found within ${SEED_BOUND[mutation]} seeds`).not.toBeNull();
      const clean = runSeed({ ...profile, seed: found!.seed });
      expect(clean.violation, `seed ${found!.seed} without the mutation`).toBeUndefined();
      console.log(`${mutation}: seed ${found!.seed}: ${found!.message}`);
    }, 300_000);
  }
});
