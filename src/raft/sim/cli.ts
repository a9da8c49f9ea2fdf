/**
 * npm run sim -- --seed N [--nodes 3..7] [--verbose]      replay one seed exactly
 * npm run sim -- --seeds N [--start S] [--nodes 3..7]     run a batch, print a summary
 * Extra: --profile swarm|membership, --fault-ms T, --liveness-ms T,
 *        --mutation NAME (repeatable; planted bugs for testing).
 */
import { ALL_MUTATIONS, type Mutation } from '../core/index.js';
import { runSeed, type SimOptions, type SimProfile, type SimResult } from './simulator.js';

interface Args {
  seed?: number;
  seeds?: number;
  start: number;
  nodes?: 3 | 4 | 5 | 6 | 7;
  verbose: boolean;
  faultMs?: number;
  livenessMs?: number;
  mutations: Mutation[];
  profile?: SimProfile;
}

function usage(problem: string): never {
  process.stderr.write(
    `${problem}\nusage: npm run sim -- --seed N [--verbose] | --seeds N [--start S] [--nodes 3..7] [--profile swarm|membership] [--fault-ms T] [--liveness-ms T] [--mutation NAME]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { start: 1, verbose: false, mutations: [] };
  const num = (k: number, flag: string): number => {
    const v = Number(argv[k]);
    if (argv[k] === undefined || !Number.isInteger(v) || v < 0) usage(`${flag} needs a non-negative integer`);
    return v;
  };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    switch (a) {
      case '--seed':
        args.seed = num(++k, a);
        break;
      case '--seeds':
        args.seeds = num(++k, a);
        break;
      case '--start':
        args.start = num(++k, a);
        break;
      case '--nodes': {
        const n = num(++k, a);
        if (n !== 3 && n !== 4 && n !== 5 && n !== 6 && n !== 7) usage('--nodes must be 3 to 7');
        args.nodes = n;
        break;
      }
      case '--fault-ms':
        args.faultMs = num(++k, a);
        break;
      case '--liveness-ms':
        args.livenessMs = num(++k, a);
        break;
      case '--mutation': {
        const m = argv[++k] as Mutation;
        if (!ALL_MUTATIONS.includes(m)) usage(`--mutation must be one of ${ALL_MUTATIONS.join(', ')}`);
        args.mutations.push(m);
        break;
      }
      case '--profile': {
        const p = argv[++k];
        if (p !== 'swarm' && p !== 'membership') usage('--profile must be swarm or membership');
        args.profile = p;
        break;
      }
      case '--verbose':
      case '-v':
        args.verbose = true;
        break;
      default:
        usage(`unknown argument ${a}`);
    }
  }
  if ((args.seed === undefined) === (args.seeds === undefined)) usage('give exactly one of --seed or --seeds');
  return args;
}

function options(args: Args, seed: number, trace?: (line: string) => void): SimOptions {
  return { seed, profile: args.profile, nodes: args.nodes, faultMs: args.faultMs, livenessMs: args.livenessMs, mutations: args.mutations, trace };
}

function summary(r: SimResult): string {
  const s = r.stats;
  return (
    `seed ${r.seed}: ${r.ok ? 'ok' : 'FAIL'} nodes=${r.nodes} steps=${r.steps} simTime=${r.simTimeMs}ms ` +
    `proposals=${s.proposals} acked=${s.acked} reads=${s.readsServed}/${s.reads} elections=${s.elections} crashes=${s.crashes} ` +
    `conf=${s.confChanges} snapshots=${s.snapshots} transfers=${s.transfers} messages=${s.messages}`
  );
}

/** Replays a failing seed with tracing on and prints its last lines (the run is deterministic). */
function shortTrace(args: Args, seed: number, lines = 40): string[] {
  const ring: string[] = [];
  runSeed(options(args, seed, (l) => {
    ring.push(l);
    if (ring.length > lines) ring.shift();
  }));
  return ring;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (args.seed !== undefined) {
    const r = runSeed(options(args, args.seed, args.verbose ? (l) => process.stdout.write(l + '\n') : undefined));
    process.stdout.write(summary(r) + '\n');
    if (!r.ok) {
      process.stdout.write(`violation: ${r.violation!.message}\n`);
      if (!args.verbose) process.stdout.write('last steps:\n' + shortTrace(args, args.seed).map((l) => '  ' + l).join('\n') + '\n');
      process.stdout.write(`replay: npm run sim -- --seed ${args.seed}${args.nodes ? ` --nodes ${args.nodes}` : ''} --verbose\n`);
      process.exit(1);
    }
    return;
  }
  const started = process.hrtime.bigint();
  let steps = 0;
  const failures: SimResult[] = [];
  for (let seed = args.start; seed < args.start + args.seeds!; seed++) {
    const r = runSeed(options(args, seed));
    steps += r.steps;
    if (!r.ok) {
      failures.push(r);
      process.stdout.write(`FAIL seed ${seed}: ${r.violation!.message}\n`);
      process.stdout.write(shortTrace(args, seed, 20).map((l) => '  ' + l).join('\n') + '\n');
    }
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(
    `seeds=${args.seeds} (${args.start}..${args.start + args.seeds! - 1}) steps=${steps} failures=${failures.length} ` +
      `elapsed=${elapsed.toFixed(1)}s seeds/s=${(args.seeds! / elapsed).toFixed(1)}\n`,
  );
  if (failures.length > 0) {
    process.stdout.write(`failing seeds: ${failures.map((f) => f.seed).join(' ')}\n`);
    process.exit(1);
  }
}

main();
