/**
 * npm run lincheck -- --model register|kv|set [--timeout-ms N] FILE
 *
 * Prints `linearizable: true|false|unknown`. Exit codes: 0 linearizable, 1 not linearizable,
 * 2 bad input or usage (with the line number for bad input), 3 search timed out (unknown).
 */
import { readFileSync } from 'node:fs';
import { checkHistory } from './checker.js';
import { HistoryParseError, MODEL_NAMES, parseHistory, type ModelName, type ParsedHistory } from './parse/index.js';
import type { CheckResult } from './types.js';

export const EXIT_LINEARIZABLE = 0;
export const EXIT_NOT_LINEARIZABLE = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_UNKNOWN = 3;

const USAGE = 'usage: lincheck --model register|kv|set [--timeout-ms N] FILE';

interface Arguments {
  model: ModelName;
  file: string;
  timeoutMs: number | undefined;
}

class UsageError extends Error {}

function parseArguments(argv: readonly string[]): Arguments {
  let model: string | undefined;
  let file: string | undefined;
  let timeoutMs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--model') model = value();
    else if (flag === '--timeout-ms') {
      timeoutMs = Number(value());
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout-ms must be a positive number');
    } else if (flag === '--help' || flag === '-h') throw new UsageError('');
    else if (arg.startsWith('--')) throw new UsageError(`unknown flag ${arg}`);
    else if (file === undefined) file = arg;
    else throw new UsageError(`unexpected argument ${arg}`);
  }
  if (model === undefined || !(MODEL_NAMES as readonly string[]).includes(model)) {
    throw new UsageError(`--model must be one of ${MODEL_NAMES.join(', ')}`);
  }
  if (file === undefined) throw new UsageError('missing FILE');
  return { model: model as ModelName, file, timeoutMs };
}

function check(history: ParsedHistory, timeoutMs: number | undefined): CheckResult<unknown, unknown> {
  const options = { timeoutMs };
  switch (history.name) {
    case 'register':
      return checkHistory(history.model, history.operations, options);
    case 'kv':
      return checkHistory(history.model, history.operations, options);
    case 'set':
      return checkHistory(history.model, history.operations, options);
  }
}

export function main(argv: readonly string[], out: (line: string) => void, err: (line: string) => void): number {
  let args: Arguments;
  try {
    args = parseArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message !== '') err(error.message);
    err(USAGE);
    return EXIT_BAD_INPUT;
  }
  let history: ParsedHistory;
  try {
    history = parseHistory(args.model, readFileSync(args.file, 'utf8'));
  } catch (error) {
    if (error instanceof HistoryParseError) {
      err(`${args.file}:${error.line}: ${error.detail}`);
      return EXIT_BAD_INPUT;
    }
    if (error instanceof Error && 'code' in error) {
      err(`cannot read ${args.file}: ${error.message}`);
      return EXIT_BAD_INPUT;
    }
    throw error;
  }
  const started = performance.now();
  const result = check(history, args.timeoutMs);
  const elapsed = performance.now() - started;
  out(`linearizable: ${result.linearizable}`);
  if (result.explanation !== undefined) out(result.explanation);
  err(`checked ${history.operations.length} operations in ${elapsed.toFixed(1)} ms`);
  if (result.linearizable === true) return EXIT_LINEARIZABLE;
  return result.linearizable === false ? EXIT_NOT_LINEARIZABLE : EXIT_UNKNOWN;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) {
  process.exitCode = main(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  );
}
