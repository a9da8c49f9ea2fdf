/**
 * A small argument parser: positionals, `--key value`, `--key=value`, boolean `--flag` and
 * `--no-flag`. Unknown flags are errors (exit 2) so a typo never silently falls back to a default.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command failed for a reason the message fully explains (exit 1, no stack trace). */
export class CommandFailedError extends Error {
  override name = 'CommandFailedError';
}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | undefined>;
  help: boolean;
}

export interface ArgSpec {
  /** Flags that take a value. */
  values: readonly string[];
  /** Flags that are true when present (also accept `--no-x` and `--x=false`). */
  booleans?: readonly string[];
  /** Positional arguments allowed (max). */
  maxPositionals?: number;
}

export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const booleans = new Set(spec.booleans ?? []);
  const valued = new Set(spec.values);
  const out: ParsedArgs = { positionals: [], values: {}, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (booleans.has(name)) {
      out.values[name] = value ?? 'true';
      continue;
    }
    if (name.startsWith('no-') && booleans.has(name.slice(3)) && value === undefined) {
      name = name.slice(3);
      out.values[name] = 'false';
      continue;
    }
    if (!valued.has(name)) throw new UsageError(`unknown flag --${name}`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
    }
    out.values[name] = value;
  }
  if (spec.maxPositionals !== undefined && out.positionals.length > spec.maxPositionals) {
    throw new UsageError(`unexpected argument "${out.positionals[spec.maxPositionals]}"`);
  }
  return out;
}

export function intFlag(values: Record<string, string | undefined>, name: string, fallback: number, min = 0): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

export function numberFlag(values: Record<string, string | undefined>, name: string, fallback: number, min = 0): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}, got "${raw}"`);
  return n;
}
