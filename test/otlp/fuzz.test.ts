/**
 * Seeded, bounded fuzzing: random and mutated protobuf and JSON bodies. Every call must either
 * return or throw OtlpDecodeError — never another exception — and whatever the scanner accepts
 * must be readable back (protobufjs decode, OTLP/JSON out and in again), because that is what the
 * store keeps and the query layer serves. A failing case prints its seed and index to replay.
 */
import { describe, expect, it } from 'vitest';
import { encodeSpanBatch } from '../../src/otlp/batch.js';
import { otlpJsonToProtobuf } from '../../src/otlp/json.js';
import { tracesDataToOtlpJson, tracesDataToTempoJson } from '../../src/otlp/render.js';
import { validateLogsRequest } from '../../src/otlp/logs.js';
import { validateMetricsRequest } from '../../src/otlp/metrics.js';
import { OtlpDecodeError } from '../../src/otlp/model.js';
import { otlpTypes } from '../../src/otlp/proto.js';
import { scanExportTraceRequest } from '../../src/otlp/scan.js';
import { decodeToPlain, encodeObject, kitchenSinkObject } from './fixtures.js';
import { realisticRequest, rng } from './generate.js';

const SEED = Number(process.env.OTLP_FUZZ_SEED ?? 20261124);
const PROTOBUF_CASES = 10_000;
const JSON_CASES = 8_000;
const OTHER_SIGNAL_CASES = 2_000;

type Outcome = 'ok' | 'rejected';

function expectDecodeErrorOnly(what: string, fn: () => void): Outcome {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof OtlpDecodeError) return 'rejected';
    throw new Error(`${what}: threw ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err });
  }
}

function mutateBytes(next: () => number, seeds: Uint8Array[]): Uint8Array {
  const pick = (n: number) => Math.floor(next() * n);
  let b: Uint8Array = new Uint8Array(seeds[pick(seeds.length)]!); // a copy (Buffer#slice would share)
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const op = pick(8);
    const at = b.length ? pick(b.length) : 0;
    if (op === 0 && b.length) b[at] = pick(256); // overwrite a byte
    else if (op === 1 && b.length) b[at] ^= 1 << pick(8); // flip a bit
    else if (op === 2) b = concat(b.subarray(0, at), Uint8Array.from({ length: 1 + pick(8) }, () => pick(256)), b.subarray(at));
    else if (op === 3) b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pick(16)))); // delete
    else if (op === 4) b = b.subarray(0, at); // truncate
    else if (op === 5 && b.length) b[at] = [0x80, 0xff, 0x7f, 0x00, 0x0a, 0x12, 0x1a, 0x0b, 0x0c][pick(9)]!;
    else if (op === 6) {
      const other = seeds[pick(seeds.length)]!;
      const from = pick(other.length);
      b = concat(b.subarray(0, at), other.subarray(from, from + pick(64)));
    } else {
      const from = pick(Math.max(1, b.length));
      b = concat(b, b.subarray(from, from + pick(32))); // duplicate a range
    }
  }
  return b;
}

function concat(a: Uint8Array, ...rest: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(rest.reduce((n, r) => n + r.length, a.length));
  out.set(a);
  let off = a.length;
  for (const r of rest) {
    out.set(r, off);
    off += r.length;
  }
  return out;
}

function randomJsonValue(next: () => number, depth = 0): unknown {
  const pick = (n: number) => Math.floor(next() * n);
  switch (depth > 3 ? pick(6) : pick(9)) {
    case 0: return null;
    case 1: return next() < 0.5;
    case 2: return [0, -1, 1.5, 2 ** 53 + 2, -(2 ** 63), 1e308, 4294967296][pick(7)];
    case 3: return ['', 'NaN', '-Infinity', '18446744073709551616', '-9223372036854775809', '1e400', '0x10', 'zz', '5b8efff798038103d269b633813fc60c', 'AAEC+v8=', '\u0000', '\ud800'][pick(12)];
    case 4: return 'SPAN_KIND_SERVER';
    case 5: return String(pick(1e9));
    case 6: return Array.from({ length: pick(3) }, () => randomJsonValue(next, depth + 1));
    case 7: return { key: 'k', value: randomJsonValue(next, depth + 1) };
    default: return { stringValue: 'x', intValue: '1', nested: randomJsonValue(next, depth + 1) };
  }
}

function mutateJsonStructure(next: () => number, value: unknown): unknown {
  const pick = (n: number) => Math.floor(next() * n);
  const copy = structuredClone(value);
  const paths: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((item, i) => { paths.push({ parent: v, key: i }); walk(item); });
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) { paths.push({ parent: v as Record<string, unknown>, key: k }); walk((v as Record<string, unknown>)[k]); }
  };
  walk(copy);
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds && paths.length; r++) {
    const { parent, key } = paths[pick(paths.length)]!;
    const op = pick(4);
    if (op === 0) (parent as Record<string, unknown>)[key as string] = randomJsonValue(next);
    else if (op === 1 && !Array.isArray(parent)) delete parent[key as string];
    else if (op === 2 && !Array.isArray(parent)) {
      const v = parent[key as string];
      delete parent[key as string];
      parent[String(key).replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())] = v;
    } else (parent as Record<string, unknown>)[key as string] = 'unknown-' + pick(10);
  }
  return copy;
}

/** Absurdly deep nesting, written as text (JSON.stringify itself would overflow the stack). */
function deepJsonText(next: () => number): string {
  const depth = 200 + Math.floor(next() * 3_000);
  const kind = Math.floor(next() * 3);
  if (kind === 0) return `{"resourceSpans":[${'['.repeat(depth)}${']'.repeat(depth)}]}`;
  if (kind === 1) return `{"resourceSpans":[{"resource":{"attributes":[{"key":"d","value":${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth)}{}${'}]}}'.repeat(depth)}}]}}]}`;
  return `{"unknown":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)},"resourceSpans":[{"resource":{"attributes":[{"key":"n","value":{"intValue":12345678901234567890}}]}}]}`;
}

function mutateText(next: () => number, text: string): string {
  const pick = (n: number) => Math.floor(next() * n);
  const at = pick(text.length + 1);
  const junk = ['{', '}', '[', ']', ',', ':', '"', '\\', '1e999', '-', 'null', '\u00e9', '99999999999999999999', ' '][pick(14)]!;
  switch (pick(3)) {
    case 0: return text.slice(0, at) + junk + text.slice(at);
    case 1: return text.slice(0, at) + text.slice(at + 1 + pick(8));
    default: return text.slice(0, at);
  }
}

/** What the store keeps must be readable: protobufjs decode, OTLP/JSON and Tempo JSON, and back. */
function checkAccepted(bytes: Uint8Array): void {
  const { batch } = scanExportTraceRequest(bytes);
  const stored = encodeSpanBatch(batch);
  decodeToPlain(stored);
  const json = tracesDataToOtlpJson(stored, { ids: 'hex' });
  tracesDataToTempoJson(stored);
  const again = otlpJsonToProtobuf(JSON.stringify(json));
  expect(tracesDataToOtlpJson(again, { ids: 'hex' })).toEqual(json);
}

describe(`fuzz (seed ${SEED})`, () => {
  const seeds = [encodeObject(kitchenSinkObject()), realisticRequest(3, 4), realisticRequest(4, 1), new Uint8Array(0)];

  it(`${PROTOBUF_CASES} random and mutated protobuf trace bodies`, () => {
    const next = rng(SEED);
    const outcomes = { ok: 0, rejected: 0 };
    for (let i = 0; i < PROTOBUF_CASES; i++) {
      const body = i % 10 === 0 ? Uint8Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)) : mutateBytes(next, seeds);
      const outcome = expectDecodeErrorOnly(`protobuf case ${i} (seed ${SEED})`, () => scanExportTraceRequest(body));
      outcomes[outcome]++;
      // Decoding everything the scanner accepts is costly: do it for a bounded sample.
      if (outcome === 'ok' && i % 16 === 0) checkAccepted(body);
    }
    // Both paths must have been exercised for the run to mean anything.
    expect(outcomes.ok).toBeGreaterThan(PROTOBUF_CASES / 20);
    expect(outcomes.rejected).toBeGreaterThan(PROTOBUF_CASES / 20);
  });

  it(`${JSON_CASES} mutated OTLP/JSON trace bodies`, () => {
    const next = rng(SEED + 1);
    const base = seeds.slice(0, 3).map((s) => tracesDataToOtlpJson(s, { ids: 'hex' }));
    const outcomes = { ok: 0, rejected: 0 };
    for (let i = 0; i < JSON_CASES; i++) {
      const value = base[i % base.length]!;
      const text = i % 50 === 7 ? deepJsonText(next) : i % 2 === 0 ? JSON.stringify(mutateJsonStructure(next, value)) : mutateText(next, JSON.stringify(value));
      let pb: Uint8Array | undefined;
      const outcome = expectDecodeErrorOnly(`json case ${i} (seed ${SEED})`, () => {
        pb = otlpJsonToProtobuf(text);
        scanExportTraceRequest(pb);
      });
      outcomes[outcome]++;
      if (outcome === 'ok' && i % 64 === 0) checkAccepted(pb!);
    }
    expect(outcomes.ok).toBeGreaterThan(JSON_CASES / 20);
    expect(outcomes.rejected).toBeGreaterThan(JSON_CASES / 20);
  });

  it(`${OTHER_SIGNAL_CASES} mutated logs and metrics bodies`, () => {
    const next = rng(SEED + 2);
    const L = otlpTypes().ExportLogsServiceRequest;
    const M = otlpTypes().ExportMetricsServiceRequest;
    const logs = L.encode(L.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 9, body: { kvlistValue: { values: [{ key: 'a', value: { stringValue: 'b' } }] } } }] }] }] })).finish();
    const metrics = M.encode(M.fromObject({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', histogram: { dataPoints: [{ count: 2, bucketCounts: [1, 1], explicitBounds: [1] }] } }] }] }] })).finish();
    for (let i = 0; i < OTHER_SIGNAL_CASES; i++) {
      const isLogs = i % 2 === 0;
      const body = mutateBytes(next, [isLogs ? logs : metrics]);
      const validate = isLogs ? validateLogsRequest : validateMetricsRequest;
      expectDecodeErrorOnly(`signal case ${i} (seed ${SEED})`, () => validate(body, 'protobuf'));
      const text = mutateText(next, JSON.stringify(isLogs ? L.toObject(L.decode(logs), { longs: String }) : M.toObject(M.decode(metrics), { longs: String })));
      expectDecodeErrorOnly(`signal json case ${i} (seed ${SEED})`, () => validate(new TextEncoder().encode(text), 'json'));
    }
  });
});
