/**
 * Node configuration: defaults < YAML file (`--config FILE`) < environment (OTLP_STORE_*) < flags.
 *
 * Every key has one spelling per source, derived from one table: the flag `--data-dir`, the file key
 * `data_dir` (or `data-dir`) and the variable `OTLP_STORE_DATA_DIR`. `--help` is generated from the
 * same table, so it always lists every key.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export const WRITE_CONSISTENCY_LEVELS = ['strong', 'quorum', 'one', 'any'] as const;
export const READ_CONSISTENCY_LEVELS = ['strong', 'quorum', 'one'] as const;
export type WriteConsistency = (typeof WRITE_CONSISTENCY_LEVELS)[number];
export type ReadConsistency = (typeof READ_CONSISTENCY_LEVELS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface NodeConfig {
  dataDir: string;
  host: string;
  grpcPort: number;
  httpPort: number;
  queryPort: number;
  jaegerPort: number;
  shards: number;
  /** Largest accepted request body, measured after decompression. */
  maxBodyBytes: number;
  /** Ingest requests being processed at once (HTTP + gRPC); beyond it → 429 / UNAVAILABLE. */
  maxInflightRequests: number;
  /** Decompressed body bytes being processed at once; beyond it → 429 / UNAVAILABLE. */
  maxInflightBytes: number;
  retentionMs: number;
  retentionPerTenantMs: Record<string, number>;
  retentionIntervalMs: number;
  cacheBytes: number;
  memoryHeadBytes: number;
  maxQueuedSpans: number;
  fsync: boolean;
  writeConsistency: WriteConsistency;
  readConsistency: ReadConsistency;
  logLevel: LogLevel;
  /** How long graceful shutdown waits for in-flight requests before closing anyway. */
  shutdownTimeoutMs: number;
  /** Idle keep-alive of HTTP connections (many idle clients are cheap; keep them open). */
  keepAliveTimeoutMs: number;
}

/** A configuration problem; `key` is the flag-style name of the offending key. Exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`invalid config "${key}": ${message}`);
  }
}

type Kind = 'string' | 'port' | 'int' | 'bytes' | 'duration' | 'bool' | 'tenantDurations' | 'enum';

interface KeySpec {
  /** flag name without dashes, e.g. 'data-dir' */
  name: string;
  field: keyof NodeConfig;
  kind: Kind;
  default: unknown;
  help: string;
  values?: readonly string[];
  min?: number;
}

const MiB = 1024 * 1024;
const DAY = 24 * 3600 * 1000;

export const CONFIG_KEYS: readonly KeySpec[] = [
  { name: 'data-dir', field: 'dataDir', kind: 'string', default: './data', help: 'directory of the embedded store' },
  { name: 'host', field: 'host', kind: 'string', default: '0.0.0.0', help: 'address every listener binds' },
  { name: 'grpc-port', field: 'grpcPort', kind: 'port', default: 4317, help: 'OTLP/gRPC port (0 = ephemeral)' },
  { name: 'http-port', field: 'httpPort', kind: 'port', default: 4318, help: 'OTLP/HTTP port (0 = ephemeral)' },
  { name: 'query-port', field: 'queryPort', kind: 'port', default: 3200, help: 'Tempo-compatible query API, /metrics, /ready, /healthz (0 = ephemeral)' },
  { name: 'jaeger-port', field: 'jaegerPort', kind: 'port', default: 16686, help: 'Jaeger-compatible query API (0 = ephemeral)' },
  { name: 'shards', field: 'shards', kind: 'int', default: 64, min: 1, help: 'shards on this node (fixed for the life of the data dir)' },
  { name: 'max-body-bytes', field: 'maxBodyBytes', kind: 'bytes', default: 64 * MiB, min: 1, help: 'largest request body after decompression (e.g. 64MiB)' },
  { name: 'max-inflight-requests', field: 'maxInflightRequests', kind: 'int', default: 1024, min: 1, help: 'ingest requests processed at once; beyond → 429/UNAVAILABLE' },
  { name: 'max-inflight-bytes', field: 'maxInflightBytes', kind: 'bytes', default: 512 * MiB, min: 1, help: 'decompressed ingest bytes processed at once; beyond → 429/UNAVAILABLE' },
  { name: 'retention', field: 'retentionMs', kind: 'duration', default: 14 * DAY, min: 1, help: 'default data retention (e.g. 14d, 36h)' },
  { name: 'retention-per-tenant', field: 'retentionPerTenantMs', kind: 'tenantDurations', default: {}, help: 'per-tenant retention, "tenant=7d,other=1d" (file: a map)' },
  { name: 'retention-interval', field: 'retentionIntervalMs', kind: 'duration', default: 5 * 60 * 1000, min: 1, help: 'how often retention runs' },
  { name: 'cache-bytes', field: 'cacheBytes', kind: 'bytes', default: 128 * MiB, min: 0, help: 'budget of the trace / search-result cache' },
  { name: 'memory-head-bytes', field: 'memoryHeadBytes', kind: 'bytes', default: 64 * MiB, min: 1, help: 'in-memory head budget before flushing to disk' },
  { name: 'max-queued-spans', field: 'maxQueuedSpans', kind: 'int', default: 500_000, min: 1, help: 'spans waiting in the store write queue; beyond → 429/UNAVAILABLE' },
  { name: 'fsync', field: 'fsync', kind: 'bool', default: true, help: 'fsync before acknowledging writes (only turn off for throwaway data)' },
  { name: 'write-consistency', field: 'writeConsistency', kind: 'enum', values: WRITE_CONSISTENCY_LEVELS, default: 'strong', help: 'default write level when a request has no X-Consistency' },
  { name: 'read-consistency', field: 'readConsistency', kind: 'enum', values: READ_CONSISTENCY_LEVELS, default: 'strong', help: 'default read level when a request has no X-Consistency' },
  { name: 'log-level', field: 'logLevel', kind: 'enum', values: LOG_LEVELS, default: 'info', help: 'pino log level' },
  { name: 'shutdown-timeout', field: 'shutdownTimeoutMs', kind: 'duration', default: 30_000, min: 0, help: 'graceful shutdown: longest wait for in-flight requests' },
  { name: 'keep-alive-timeout', field: 'keepAliveTimeoutMs', kind: 'duration', default: 650_000, min: 0, help: 'idle HTTP keep-alive before a connection is closed' },
];

export function envName(key: string): string {
  return 'OTLP_STORE_' + key.toUpperCase().replace(/-/g, '_');
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1000, kb: 1000, kib: 1024, m: 1000 ** 2, mb: 1000 ** 2, mib: MiB,
  g: 1000 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
};
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY };

export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(m[1]) * unit);
}

/** "14d", "1h30m", "500ms", or a bare number of milliseconds. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return s.length ? Math.round(total) : undefined;
}

function convert(spec: KeySpec, raw: unknown): unknown {
  const fail = (why: string): never => {
    throw new ConfigError(spec.name, why);
  };
  const asText = (): string => {
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
    return fail(`expected a scalar, got ${JSON.stringify(raw)}`);
  };
  const checkMin = (n: number): number => {
    if (spec.min !== undefined && n < spec.min) fail(`must be at least ${spec.min}, got ${n}`);
    return n;
  };
  switch (spec.kind) {
    case 'string': {
      const s = asText();
      if (!s) fail('must not be empty');
      return s;
    }
    case 'port': {
      const s = asText().trim();
      const n = /^\d+$/.test(s) ? Number(s) : NaN;
      if (!(Number.isInteger(n) && n >= 0 && n <= 65535)) fail(`expected a port 0-65535, got "${s}"`);
      return n;
    }
    case 'int': {
      const s = asText().trim().replace(/_/g, '');
      const n = /^\d+$/.test(s) ? Number(s) : NaN;
      if (!Number.isSafeInteger(n)) fail(`expected a non-negative integer, got "${asText()}"`);
      return checkMin(n);
    }
    case 'bytes': {
      const n = parseBytes(asText());
      if (n === undefined || !Number.isSafeInteger(n)) return fail(`expected a size like 64MiB, 512kb or 1048576, got "${asText()}"`);
      return checkMin(n);
    }
    case 'duration': {
      const n = parseDuration(asText());
      if (n === undefined) return fail(`expected a duration like 14d, 90m, 30s or 500ms, got "${asText()}"`);
      return checkMin(n);
    }
    case 'bool': {
      const s = asText().trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
      return fail(`expected true or false, got "${s}"`);
    }
    case 'enum': {
      const s = asText().trim().toLowerCase();
      if (!spec.values!.includes(s)) fail(`expected one of ${spec.values!.join(', ')}, got "${s}"`);
      return s;
    }
    case 'tenantDurations': {
      const out: Record<string, number> = {};
      let entries: [string, unknown][];
      if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) entries = Object.entries(raw);
      else {
        const s = asText().trim();
        entries = s === '' ? [] : s.split(',').map((part) => {
          const eq = part.indexOf('=');
          if (eq <= 0) fail(`expected "tenant=duration[,tenant=duration]", got "${part}"`);
          return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
        });
      }
      for (const [tenant, value] of entries) {
        const n = parseDuration(String(value));
        if (n === undefined || n <= 0) fail(`tenant "${tenant}": expected a duration like 7d, got "${String(value)}"`);
        out[tenant] = n!;
      }
      return out;
    }
  }
}

export interface ConfigSources {
  /** Flag values keyed by flag name ('data-dir'), as strings. */
  flags?: Record<string, string | undefined>;
  env?: NodeJS.ProcessEnv;
  /** Path of a YAML file; overridden by flags['config'] / OTLP_STORE_CONFIG when those are set. */
  file?: string;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError('config', `${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError('config', `${path} must hold a YAML map of keys`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    const name = k.replace(/_/g, '-');
    if (!CONFIG_KEYS.some((s) => s.name === name)) throw new ConfigError(k, `unknown key in ${path}`);
    out[name] = v;
  }
  return out;
}

export function loadConfig(sources: ConfigSources = {}): NodeConfig {
  const flags = sources.flags ?? {};
  const env = sources.env ?? {};
  for (const name of Object.keys(flags)) {
    if (name !== 'config' && flags[name] !== undefined && !CONFIG_KEYS.some((s) => s.name === name)) {
      throw new ConfigError(name, 'unknown flag');
    }
  }
  const filePath = flags['config'] ?? env['OTLP_STORE_CONFIG'] ?? sources.file;
  const file = filePath ? readConfigFile(filePath) : {};
  const config: Record<string, unknown> = {};
  for (const spec of CONFIG_KEYS) {
    const flag = flags[spec.name];
    const fromEnv = env[envName(spec.name)];
    let raw: unknown = spec.default;
    let given = false;
    if (flag !== undefined) [raw, given] = [flag, true];
    else if (fromEnv !== undefined) [raw, given] = [fromEnv, true];
    else if (spec.name in file) [raw, given] = [file[spec.name], true];
    config[spec.field] = given ? convert(spec, raw) : spec.default;
  }
  return config as unknown as NodeConfig;
}

/** The `--help` text of `otlp-store start`: every key with its env variable and default. */
export function configHelp(): string {
  const lines = [
    'Config sources, later wins: defaults < YAML file (--config FILE, OTLP_STORE_CONFIG) < environment < flags.',
    'File keys are the flag names with "_" or "-" (data_dir: ./data).',
    '',
    `  --config FILE`.padEnd(34) + 'YAML config file  [env OTLP_STORE_CONFIG]',
  ];
  for (const spec of CONFIG_KEYS) {
    const argName = spec.kind === 'enum' ? spec.values!.join('|') : spec.kind === 'tenantDurations' ? 'T=DUR,...' : spec.kind.toUpperCase();
    const head = `  --${spec.name}${spec.kind === 'bool' ? ' | --no-' + spec.name : ' ' + argName}`;
    const def = spec.kind === 'tenantDurations' ? '' : `, default ${formatDefault(spec)}`;
    const text = `${spec.help}  [env ${envName(spec.name)}${def}]`;
    lines.push(head.length < 33 ? head.padEnd(34) + text : `${head}\n${' '.repeat(34)}${text}`);
  }
  return lines.join('\n');
}

function formatDefault(spec: KeySpec): string {
  const v = spec.default;
  if (spec.kind === 'bytes') return formatBytes(v as number);
  if (spec.kind === 'duration') return formatDuration(v as number);
  return String(v);
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', MiB], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', DAY], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
