/**
 * Seeded fuzzing of the OTLP receivers: random and mutated protobuf and JSON bodies over HTTP and
 * gRPC. Every answer must be a 200 or a 4xx (gRPC OK, INVALID_ARGUMENT or RESOURCE_EXHAUSTED):
 * never a 5xx, a crash or a hang; and the node must still be ready afterwards.
 * Bounded in count and in time; a failure prints the seed and the case number to replay it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, tempDir, type NodeProcess } from './harness.js';
import { postOtlp, RawGrpcClient, traceRequest } from './otlp-client.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const HTTP_CASES = 400;
const GRPC_CASES = 200;
const TIME_BUDGET_MS = 40_000;

let node: NodeProcess;
const dir = tempDir();
beforeAll(async () => {
  node = await startNode(dir.path, ['--max-body-bytes', '256KiB']);
});
afterAll(async () => {
  await node?.stop();
  dir.remove();
});

class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

function seedProtobuf(rng: Rng): Buffer {
  const traceId = rng.bytes(16);
  const spans = Array.from({ length: 1 + rng.int(5) }, (_, i) => ({ traceId, service: `s${i % 2}`, name: `op${i}`, attributes: { k: 'v', n: i, f: 1.5, b: true } }));
  return traceRequest(spans).body;
}

function seedJson(rng: Rng): string {
  const hex = (n: number) => rng.bytes(n).toString('hex');
  const now = String(BigInt(Date.now()) * 1_000_000n);
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }] },
      scopeSpans: [{ scope: { name: 'f' }, spans: [{ traceId: hex(16), spanId: hex(8), name: 'x', kind: 2, startTimeUnixNano: now, endTimeUnixNano: now,
        attributes: [{ key: 'i', value: { intValue: '9007199254740993' } }, { key: 'a', value: { arrayValue: { values: [{ boolValue: true }] } } }],
        events: [{ timeUnixNano: now, name: 'e' }], status: { code: 1 } }] }],
    }],
  });
}

function mutate(rng: Rng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds && b.length > 0; r++) {
    const at = rng.int(b.length);
    switch (rng.int(7)) {
      case 0: b[at] = b[at]! ^ (1 << rng.int(8)); break; // bit flip
      case 1: b[at] = rng.int(256); break; // byte replace
      case 2: b = b.subarray(0, at); break; // truncate
      case 3: b = Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]); break; // insert
      case 4: b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.int(8))]); break; // delete
      case 5: { // duplicate a slice
        const len = 1 + rng.int(Math.min(64, b.length - at));
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      default: b[at] = [0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x22, 0x7b, 0x5b, 0x22][rng.int(10)]!; // structural bytes
    }
  }
  return b;
}

const JSON_TOKENS = ['{', '}', '[', ']', ',', ':', '"', 'null', 'true', '1e999', '-0', '"intValue"', '"traceId"', '"AAAA"', '18446744073709551616', '\\u0000', '"\\ud800"'];
function mutateJson(rng: Rng, text: string): string {
  let s = text;
  for (let r = 0, rounds = 1 + rng.int(3); r < rounds; r++) {
    const at = rng.int(s.length + 1);
    if (rng.next() < 0.5) s = s.slice(0, at) + JSON_TOKENS[rng.int(JSON_TOKENS.length)] + s.slice(at);
    else s = s.slice(0, at) + s.slice(at + 1 + rng.int(10));
  }
  if (rng.next() < 0.05) s = '['.repeat(2000) + ']'.repeat(2000);
  return s;
}

describe('fuzzing the receivers', () => {
  it(`answers 200 or 4xx to random and mutated bodies over HTTP (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    const started = Date.now();
    const bad: string[] = [];
    let done = 0;
    for (let i = 0; i < HTTP_CASES && Date.now() - started < TIME_BUDGET_MS; i++) {
      const kind = rng.int(4);
      let body: Buffer | string;
      let contentType: string;
      if (kind === 0) [body, contentType] = [rng.bytes(rng.int(2000)), 'application/x-protobuf'];
      else if (kind === 1) [body, contentType] = [mutate(rng, seedProtobuf(rng)), 'application/x-protobuf'];
      else if (kind === 2) [body, contentType] = [mutateJson(rng, seedJson(rng)), 'application/json'];
      else [body, contentType] = [mutate(rng, Buffer.from(seedJson(rng))), 'application/json'];
      const path = ['/v1/traces', '/v1/traces', '/v1/logs', '/v1/metrics'][rng.int(4)]!;
      const res = await postOtlp(node.http(path), body, { 'content-type': contentType });
      await res.arrayBuffer();
      const ok = res.status === 200 || (res.status >= 400 && res.status < 500) || (res.status === 501 && path !== '/v1/traces');
      if (!ok) bad.push(`case ${i} (${path}, kind ${kind}): ${res.status}`);
      done++;
    }
    expect(bad).toEqual([]);
    expect(done).toBeGreaterThan(50);
    expect((await fetch(node.query('/ready'))).status).toBe(200);
  });

  it(`answers OK / INVALID_ARGUMENT / RESOURCE_EXHAUSTED over gRPC (seed ${SEED})`, async () => {
    const rng = new Rng(SEED + 1);
    const client = new RawGrpcClient(node.ports.grpc);
    const started = Date.now();
    const bad: string[] = [];
    let done = 0;
    try {
      for (let i = 0; i < GRPC_CASES && Date.now() - started < TIME_BUDGET_MS; i++) {
        const body = rng.next() < 0.3 ? rng.bytes(rng.int(2000)) : mutate(rng, seedProtobuf(rng));
        const signal = (['trace', 'trace', 'logs', 'metrics'] as const)[rng.int(4)]!;
        const outcome = await client.export(signal, body);
        const allowed = signal === 'trace' ? [0, 3, 8] : [3, 8, 12];
        if (!allowed.includes(outcome.code)) bad.push(`case ${i} (${signal}): code ${outcome.code} ${outcome.details}`);
        done++;
      }
    } finally {
      client.close();
    }
    expect(bad).toEqual([]);
    expect(done).toBeGreaterThan(30);
    expect((await fetch(node.query('/ready'))).status).toBe(200);
  });
});
