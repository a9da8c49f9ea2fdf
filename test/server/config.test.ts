import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, configHelp, envName, loadConfig, parseBytes, parseDuration } from '../../src/server/config.js';

const dir = mkdtempSync(join(tmpdir(), 'otlp-store-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(text: string): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      dataDir: './data', grpcPort: 4317, httpPort: 4318, queryPort: 3200, jaegerPort: 16686, shards: 64,
      maxBodyBytes: 64 * 1024 * 1024, retentionMs: 14 * 24 * 3600 * 1000, writeConsistency: 'strong', readConsistency: 'strong', fsync: true,
    });
  });

  it('applies flags over env over file over defaults', () => {
    const file = configFile('data_dir: /from/file\nshards: 8\ngrpc-port: 1111\nhttp_port: 2222\nretention: 7d\n');
    const env = { OTLP_STORE_SHARDS: '16', OTLP_STORE_GRPC_PORT: '3333' };
    const c = loadConfig({ flags: { config: file, 'grpc-port': '0' }, env });
    expect(c.dataDir).toBe('/from/file'); // file only
    expect(c.shards).toBe(16); // env beats file
    expect(c.grpcPort).toBe(0); // flag beats env, and 0 is allowed
    expect(c.httpPort).toBe(2222); // file beats default
    expect(c.retentionMs).toBe(7 * 24 * 3600 * 1000);
    expect(c.queryPort).toBe(3200);
  });

  it('reads the data dir from OTLP_STORE_DATA_DIR and the config path from OTLP_STORE_CONFIG', () => {
    const file = configFile('log_level: warn\n');
    const c = loadConfig({ env: { OTLP_STORE_DATA_DIR: '/env/data', OTLP_STORE_CONFIG: file } });
    expect(c.dataDir).toBe('/env/data');
    expect(c.logLevel).toBe('warn');
  });

  it('parses sizes, durations, booleans and per-tenant retention', () => {
    expect(parseBytes('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseBytes('10kb')).toBe(10_000);
    expect(parseBytes('12')).toBe(12);
    expect(parseBytes('ten')).toBeUndefined();
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2x')).toBeUndefined();
    const c = loadConfig({ flags: { fsync: 'false', 'retention-per-tenant': 'a=1d, b=2h' } });
    expect(c.fsync).toBe(false);
    expect(c.retentionPerTenantMs).toEqual({ a: 86_400_000, b: 7_200_000 });
    const f = loadConfig({ file: configFile('retention_per_tenant:\n  team-x: 3d\n') });
    expect(f.retentionPerTenantMs).toEqual({ 'team-x': 3 * 86_400_000 });
  });

  it.each([
    [{ flags: { 'grpc-port': '70000' } }, 'grpc-port'],
    [{ flags: { shards: '0' } }, 'shards'],
    [{ env: { OTLP_STORE_MAX_BODY_BYTES: 'lots' } }, 'max-body-bytes'],
    [{ flags: { 'write-consistency': 'eventual' } }, 'write-consistency'],
    [{ flags: { 'read-consistency': 'any' } }, 'read-consistency'],
    [{ flags: { retention: '-1d' } }, 'retention'],
    [{ flags: { 'retention-per-tenant': 'nodelimiter' } }, 'retention-per-tenant'],
    [{ flags: { 'log-level': 'loud' } }, 'log-level'],
    [{ flags: { 'no-such-key': '1' } }, 'no-such-key'],
  ] as const)('rejects invalid %j naming the key', (sources, key) => {
    let error: unknown;
    try {
      loadConfig(sources as Parameters<typeof loadConfig>[0]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
    expect((error as ConfigError).message).toContain(key);
  });

  it('rejects unknown keys and bad YAML in the file', () => {
    expect(() => loadConfig({ file: configFile('data_dri: x\n') })).toThrow(/data_dri/);
    expect(() => loadConfig({ file: configFile('a: [\n') })).toThrow(ConfigError);
    expect(() => loadConfig({ file: join(dir, 'missing.yaml') })).toThrow(/cannot read/);
  });

  it('--help lists every key with its env variable', () => {
    const help = configHelp();
    for (const spec of CONFIG_KEYS) {
      expect(help).toContain(`--${spec.name}`);
      expect(help).toContain(envName(spec.name));
    }
  });
});
