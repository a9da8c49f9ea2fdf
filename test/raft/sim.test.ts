import { describe, expect, it } from 'vitest';
import { runSeed, type SimOptions } from '../../src/raft/sim/simulator.js';

/** Seeds the CI run covers; the long run is `npm run sim -- --seeds N`. */
const CI_SEEDS = 2000;

function traceOf(opts: SimOptions): string[] {
  const lines: string[] = [];
  runSeed({ ...opts, trace: (l) => lines.push(l) });
  return lines;
}

describe('raft deterministic simulator', () => {
  it('replays a seed exactly: same steps, same trace', () => {
    const a = traceOf({ seed: 42 });
    const b = traceOf({ seed: 42 });
    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
    expect(traceOf({ seed: 43 })).not.toEqual(a);
  });

  it('runs 3, 5 and 7 node clusters with proposals acknowledged and reads served', () => {
    for (const nodes of [3, 5, 7] as const) {
      let acked = 0;
      let reads = 0;
      for (let seed = 1; seed <= 5; seed++) {
        const r = runSeed({ seed, nodes });
        expect(r.violation, `seed ${seed} nodes ${nodes}`).toBeUndefined();
        expect(r.nodes).toBe(nodes);
        acked += r.stats.acked;
        reads += r.stats.readsServed;
      }
      expect(acked).toBeGreaterThan(20);
      expect(reads).toBeGreaterThan(5);
    }
  });

  it(`holds every safety and liveness property over ${CI_SEEDS} seeds`, () => {
    const failures: string[] = [];
    const totals = { steps: 0, acked: 0, elections: 0, crashes: 0, confChanges: 0, snapshots: 0, transfers: 0, readsServed: 0 };
    for (let seed = 1; seed <= CI_SEEDS; seed++) {
      const r = runSeed({ seed });
      totals.steps += r.steps;
      totals.acked += r.stats.acked;
      totals.elections += r.stats.elections;
      totals.crashes += r.stats.crashes;
      totals.confChanges += r.stats.confChanges;
      totals.snapshots += r.stats.snapshots;
      totals.transfers += r.stats.transfers;
      totals.readsServed += r.stats.readsServed;
      if (!r.ok) failures.push(`seed ${seed}: ${r.violation!.message} (replay: npm run sim -- --seed ${seed} --verbose)`);
    }
    expect(failures).toEqual([]);
    // The workload really exercised the interesting paths.
    expect(totals.acked).toBeGreaterThan(CI_SEEDS * 10);
    expect(totals.elections).toBeGreaterThan(CI_SEEDS * 2);
    for (const k of ['crashes', 'confChanges', 'snapshots', 'transfers', 'readsServed'] as const) {
      expect(totals[k], k).toBeGreaterThan(CI_SEEDS / 2);
    }
  }, 300_000);
});
