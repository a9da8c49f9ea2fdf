/**
 * Per-file check times over the linearizability corpus, and for KV histories a comparison run
 * with P-compositionality switched off (one search over a whole-store model). Then simulated
 * histories with lost operations, compared with the plain Wing & Gong / Lowe search in Porcupine's
 * order (`plainSearch: true`: no reductions, eager placement or pruning of lost operations).
 *
 *   npx tsx src/raft/lincheck/bench.ts [CORPUS_DIR] [--runs N] [--timeout-ms N] [--corpus-only]
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { checkHistory } from './checker.js';
import { parseHistory, type ModelName, type ParsedHistory } from './parse/index.js';
import { kvModel, type KvInput, type KvOutput } from './models/kv.js';
import { registerModel } from './models/register.js';
import { setModel } from './models/set.js';
import { simulateKv, simulateRegister, simulateSet, type SimulationOptions } from './simulate.js';
import type { Model, Operation } from './types.js';

interface Options {
  corpus: string;
  runs: number;
  timeoutMs: number;
  simulated: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { corpus: resolve('../shared/corpus/linearizability'), runs: 5, timeoutMs: 10_000, simulated: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--timeout-ms') options.timeoutMs = Number(argv[++i]);
    else if (arg === '--corpus-only') options.simulated = false;
    else options.corpus = resolve(arg);
  }
  if (!(options.runs >= 1) || !(options.timeoutMs > 0)) throw new Error('--runs and --timeout-ms must be positive');
  return options;
}

function modelFor(folder: string, text: string): ModelName {
  if (folder.includes('jepsen') || /^\s*INFO\s+jepsen\.util\s/m.test(text)) return 'register';
  return /:key\s/.test(text) ? 'kv' : /:f\s+:add\b/.test(text) ? 'set' : 'register';
}

/**
 * The comparison: the whole store as one state (keys sorted into a string), no partitioning, so
 * the search sees every key's operations interleaved.
 */
const wholeStoreKvModel: Model<ReadonlyMap<string, string>, KvInput, KvOutput> = {
  name: 'kv-whole-store',
  init: () => new Map(),
  step(state, input, output, outputKnown) {
    const current = state.get(input.key) ?? '';
    if (input.op === 'get') return !outputKnown || output.value === current ? state : undefined;
    const next = new Map(state);
    next.set(input.key, input.op === 'put' ? input.value! : current + input.value!);
    return next;
  },
  stateKey: (state) => JSON.stringify([...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  isReadOnly: (input) => input.op === 'get',
  describeOperation: (input) => JSON.stringify(input),
  describeState: (state) => JSON.stringify([...state]),
};

interface Timing {
  verdict: boolean | 'unknown';
  medianMs: number;
}

function time<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], runs: number, timeoutMs: number, plainSearch = false): Timing {
  const samples: number[] = [];
  let verdict: boolean | 'unknown' = 'unknown';
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    verdict = checkHistory(model, ops, { timeoutMs, plainSearch }).linearizable;
    samples.push(performance.now() - started);
    if (verdict === 'unknown') break; // a timeout takes the whole budget each time
  }
  samples.sort((a, b) => a - b);
  return { verdict, medianMs: samples[Math.floor(samples.length / 2)]! };
}

interface CorpusTimings {
  checked: Timing;
  plain: Timing;
  /** KV only: one search over the whole store, no partitioning. */
  wholeStore?: Timing;
}

function timeCorpusFile(history: ParsedHistory, runs: number, timeoutMs: number): CorpusTimings {
  switch (history.name) {
    case 'register':
      return {
        checked: time(history.model, history.operations, runs, timeoutMs),
        plain: time(history.model, history.operations, runs, timeoutMs, true),
      };
    case 'kv':
      return {
        checked: time(history.model, history.operations, runs, timeoutMs),
        plain: time(history.model, history.operations, runs, timeoutMs, true),
        wholeStore: time(wholeStoreKvModel, history.operations, runs, timeoutMs),
      };
    case 'set':
      return {
        checked: time(history.model, history.operations, runs, timeoutMs),
        plain: time(history.model, history.operations, runs, timeoutMs, true),
      };
  }
}

/** This checker as configured, and the plain Porcupine-style search, on the same history. */
function both<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], options: Options): [Timing, Timing] {
  return [time(model, ops, options.runs, options.timeoutMs), time(model, ops, options.runs, options.timeoutMs, true)];
}

const show = (t: Timing, timeoutMs: number): string => (t.verdict === 'unknown' ? `> ${timeoutMs}` : t.medianMs.toFixed(1));
const ratio = (fast: Timing, slow: Timing): string =>
  `${slow.verdict === 'unknown' ? '> ' : ''}${(slow.medianMs / Math.max(fast.medianMs, 0.01)).toFixed(1)}×`;

function simulated(options: Options): void {
  console.log('\n| simulated history | ops | verdict | check ms | plain search verdict | plain search ms | ratio |');
  console.log('| --- | ---: | --- | ---: | --- | ---: | ---: |');
  for (const [clients, operations] of [[5, 1000], [10, 1000], [20, 2000]] as const) {
    for (const seed of [1, 2, 3]) {
      const sim: SimulationOptions = { seed, clients, operations, lostRate: 0.05 };
      const label = `${clients} clients, 5% lost, seed ${seed}`;
      const rows: [string, () => [Timing, Timing]][] = [
        ['register', () => both(registerModel, simulateRegister(sim), options)],
        ['kv (5 keys)', () => both(kvModel, simulateKv({ ...sim, keys: 5 }), options)],
        ['set', () => both(setModel, simulateSet(sim), options)],
      ];
      for (const [model, run] of rows) {
        const [fast, slow] = run();
        console.log(`| ${model}, ${label} | ${operations} | ${fast.verdict} | ${show(fast, options.timeoutMs)} | ${slow.verdict} | ${show(slow, options.timeoutMs)} | ${ratio(fast, slow)} |`);
      }
    }
  }
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(options.corpus)) throw new Error(`no corpus at ${options.corpus}`);
  const expected = JSON.parse(readFileSync(join(options.corpus, 'expected.json'), 'utf8')) as Record<string, Record<string, boolean | null>>;
  console.log(`nproc ${cpus().length}, memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, ${new Date().toISOString()}`);
  console.log(`median of ${options.runs} runs, timeout ${options.timeoutMs} ms\n`);
  console.log('| file | model | ops | expected | verdict | check ms | plain search ms | ratio | unpartitioned (whole store) ms | ratio |');
  console.log('| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  const folders = readdirSync(options.corpus).filter((name) => statSync(join(options.corpus, name)).isDirectory()).sort();
  for (const folder of folders) {
    for (const file of readdirSync(join(options.corpus, folder)).sort()) {
      const text = readFileSync(join(options.corpus, folder, file), 'utf8');
      const history = parseHistory(modelFor(folder, text), text);
      const { checked, plain, wholeStore } = timeCorpusFile(history, options.runs, options.timeoutMs);
      for (const other of [plain, wholeStore]) {
        if (other !== undefined && other.verdict !== 'unknown' && other.verdict !== checked.verdict) {
          throw new Error(`${folder}/${file}: verdicts differ (${checked.verdict} vs ${other.verdict})`);
        }
      }
      const whole = wholeStore === undefined ? '| | ' : `| ${show(wholeStore, options.timeoutMs)} | ${ratio(checked, wholeStore)} `;
      console.log(
        `| ${folder}/${file} | ${history.name} | ${history.operations.length} | ${expected[folder]?.[file] ?? 'none'} | ${checked.verdict} | ${show(checked, options.timeoutMs)} | ${show(plain, options.timeoutMs)} | ${ratio(checked, plain)} ${whole}|`,
      );
    }
  }
  if (options.simulated) simulated(options);
}

main();
