/**
 * Per-file check times over the linearizability corpus, and for KV histories a comparison run
 * with P-compositionality switched off (one search over a whole-store model). Then simulated
 * histories with lost operations, compared with plain Wing & Gong / Lowe search (the models'
 * `neverChangesState` and `reduce` hooks removed).
 *
 *   npx tsx src/raft/lincheck/bench.ts [CORPUS_DIR] [--runs N] [--timeout-ms N]
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
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { corpus: resolve('../shared/corpus/linearizability'), runs: 5, timeoutMs: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--timeout-ms') options.timeoutMs = Number(argv[++i]);
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

function time<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], runs: number, timeoutMs: number): Timing {
  const samples: number[] = [];
  let verdict: boolean | 'unknown' = 'unknown';
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    verdict = checkHistory(model, ops, { timeoutMs }).linearizable;
    samples.push(performance.now() - started);
    if (verdict === 'unknown') break; // a timeout takes the whole budget each time
  }
  samples.sort((a, b) => a - b);
  return { verdict, medianMs: samples[Math.floor(samples.length / 2)]! };
}

function timeBoth(history: ParsedHistory, runs: number, timeoutMs: number): [Timing, Timing | undefined] {
  switch (history.name) {
    case 'register':
      return [time(history.model, history.operations, runs, timeoutMs), undefined];
    case 'kv':
      return [
        time(history.model, history.operations, runs, timeoutMs),
        time(wholeStoreKvModel, history.operations, runs, timeoutMs),
      ];
    case 'set':
      return [time(history.model, history.operations, runs, timeoutMs), undefined];
  }
}

/** The model without the search shortcuts: what a plain WGL + memo checker would do. */
function plain<S, I, O>(model: Model<S, I, O>): Model<S, I, O> {
  const { neverChangesState: _eager, reduce: _reduce, ...rest } = model;
  return rest;
}

const show = (t: Timing, timeoutMs: number): string => (t.verdict === 'unknown' ? `> ${timeoutMs}` : t.medianMs.toFixed(1));
const ratio = (fast: Timing, slow: Timing): string =>
  `${slow.verdict === 'unknown' ? '> ' : ''}${(slow.medianMs / Math.max(fast.medianMs, 0.01)).toFixed(1)}×`;

function simulated(options: Options): void {
  console.log('\n| simulated history | ops | verdict | check ms | plain WGL verdict | plain WGL ms | ratio |');
  console.log('| --- | ---: | --- | ---: | --- | ---: | ---: |');
  for (const [clients, operations] of [[5, 1000], [10, 1000], [20, 2000]] as const) {
    for (const seed of [1, 2, 3]) {
      const sim: SimulationOptions = { seed, clients, operations, lostRate: 0.05 };
      const label = `${clients} clients, 5% lost, seed ${seed}`;
      const rows: [string, () => [Timing, Timing]][] = [
        ['register', () => { const ops = simulateRegister(sim); return [time(registerModel, ops, options.runs, options.timeoutMs), time(plain(registerModel), ops, options.runs, options.timeoutMs)]; }],
        ['kv (5 keys)', () => { const ops = simulateKv({ ...sim, keys: 5 }); return [time(kvModel, ops, options.runs, options.timeoutMs), time(plain(kvModel), ops, options.runs, options.timeoutMs)]; }],
        ['set', () => { const ops = simulateSet(sim); return [time(setModel, ops, options.runs, options.timeoutMs), time(plain(setModel), ops, options.runs, options.timeoutMs)]; }],
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
  console.log('| file | model | ops | expected | verdict | check ms | unpartitioned verdict | unpartitioned ms | ratio |');
  console.log('| --- | --- | ---: | --- | --- | ---: | --- | ---: | ---: |');
  const folders = readdirSync(options.corpus).filter((name) => statSync(join(options.corpus, name)).isDirectory()).sort();
  for (const folder of folders) {
    for (const file of readdirSync(join(options.corpus, folder)).sort()) {
      const text = readFileSync(join(options.corpus, folder, file), 'utf8');
      const history = parseHistory(modelFor(folder, text), text);
      const [partitioned, whole] = timeBoth(history, options.runs, options.timeoutMs);
      const wholeMs = whole === undefined ? '' : show(whole, options.timeoutMs);
      const wholeRatio = whole === undefined ? '' : ratio(partitioned, whole);
      console.log(
        `| ${folder}/${file} | ${history.name} | ${history.operations.length} | ${expected[folder]?.[file] ?? 'none'} | ${partitioned.verdict} | ${show(partitioned, options.timeoutMs)} | ${whole?.verdict ?? ''} | ${wholeMs} | ${wholeRatio} |`,
      );
    }
  }
  simulated(options);
}

main();
