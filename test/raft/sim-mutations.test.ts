import { describe, expect, it } from 'vitest';
import { ALL_MUTATIONS, type Mutation } from '../../src/raft/core/index.js';
import type { Property } from '../../src/raft/sim/checker.js';
import { runSeed } from '../../src/raft/sim/simulator.js';

/**
 * Each planted bug must be found by the simulator's own property checks (not merely by an
 * assertion inside the core) within a bounded number of seeds, and every seed tried must pass
 * without the bug, so the violation is the bug's and not the simulator's.
 */
const SEED_BOUND: Record<Mutation, number> = {
  commitOldTerm: 600,
  doubleVote: 100,
  replyBeforePersist: 200,
  applyBeforeCommit: 100,
  skipPrevCheck: 300,
  readWithoutQuorum: 400,
  confChangeBeforeOwnTermCommit: 600,
};

const cleanRuns = new Map<number, string | undefined>();
function cleanViolation(seed: number): string | undefined {
  if (!cleanRuns.has(seed)) cleanRuns.set(seed, runSeed({ seed }).violation?.message);
  return cleanRuns.get(seed);
}

describe('raft simulator finds planted bugs', () => {
  it('covers every mutation', () => {
    expect(Object.keys(SEED_BOUND).sort()).toEqual([...ALL_MUTATIONS].sort());
  });

  for (const mutation of ALL_MUTATIONS) {
    it(`finds ${mutation}`, () => {
      let found: { seed: number; property: Property; message: string } | null = null;
      for (let seed = 1; seed <= SEED_BOUND[mutation] && !found; seed++) {
        const r = runSeed({ seed, mutations: [mutation] });
        if (r.violation && r.violation.property !== 'core-invariant') found = { seed, ...r.violation };
      }
      expect(found, `${mutation} not found within ${SEED_BOUND[mutation]} seeds`).not.toBeNull();
      for (let seed = 1; seed <= found!.seed; seed++) {
        expect(cleanViolation(seed), `seed ${seed} without the mutation`).toBeUndefined();
      }
      console.log(`${mutation}: found by seed ${found!.seed} (${found!.property}): ${found!.message}`);
    }, 300_000);
  }
});
