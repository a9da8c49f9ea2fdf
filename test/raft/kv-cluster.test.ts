import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalCluster } from '../../src/raft/kv/local-cluster.js';
import { KvRouter } from '../../src/raft/kv/router.js';
import type { HostPort } from '../../src/raft/kv/framing.js';
import { checkHistory, kvModel, parseKvEdn, type KvOperation } from '../../src/raft/lincheck/index.js';

// Three real node processes on 127.0.0.1-3, concurrent clients, kill -9 and restart of any node
// (the leader included), then the recorded history goes through the linearizability checker.

const CLIENTS = 4;
const KEYS = ['a', 'b', 'c'];
const DURABLE_KEY = 'log'; // append-only: every acknowledged append must be in the final read
const WORKLOAD_MS = 9_000; // at least this long, and at least MIN_KILLS kill/restart rounds
const MIN_KILLS = 4;
const MAX_WORKLOAD_MS = 40_000;
const MAX_OPS_PER_CLIENT = 1_500;
const OP_TIMEOUT_MS = 1_500;

type EventType = 'invoke' | 'ok' | 'fail' | 'info';
interface HistoryEvent {
  time: number;
  process: number;
  type: EventType;
  f: 'get' | 'put' | 'append';
  key: string;
  value?: string;
}

let baseDir: string;
let cluster: LocalCluster;

beforeAll(async () => {
  baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-'));
  cluster = await LocalCluster.create(3, baseDir, ['--tick-ms', '20', '--request-timeout-ms', String(OP_TIMEOUT_MS), '--snapshot-every', '300']);
  await cluster.startAll();
});

afterAll(async () => {
  await cluster?.stopAll();
  if (baseDir) fs.rmSync(baseDir, { recursive: true, force: true });
});

function addresses(): Map<string, HostPort> {
  return new Map(cluster.nodes.map((n) => [n.id, n.client]));
}

/** Wait (bounded) until a write goes through: the cluster has a leader that can commit. */
async function waitWritable(router: KvRouter, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await router.request('put', 'probe', String(Date.now()), OP_TIMEOUT_MS);
    if (res.ok) return;
    last = `${res.error} ${res.message ?? ''}`;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`cluster not writable within ${deadlineMs} ms (last: ${last})`);
}

describe('replicated KV over three processes', () => {
  it('stays linearizable and loses no acknowledged write through kill -9 and restarts', async () => {
    const setup = new KvRouter(addresses());
    await waitWritable(setup, 15_000);
    setup.close();

    const events: HistoryEvent[] = [];
    let leaderHint = '';
    const startedAt = Date.now();
    let stopped = false;

    const client = async (clientIndex: number): Promise<void> => {
      const router = new KvRouter(addresses());
      let processId = clientIndex;
      for (let seq = 0; seq < MAX_OPS_PER_CLIENT && !stopped; seq++) {
        const roll = Math.random();
        const f: HistoryEvent['f'] = roll < 0.4 ? 'get' : roll < 0.85 ? 'append' : 'put';
        // The append-only key is read too: reads pin down the order of concurrent appends, which
        // keeps the checker's search small.
        const key = f !== 'put' && Math.random() < 0.3 ? DURABLE_KEY : KEYS[Math.floor(Math.random() * KEYS.length)]!;
        const value = f === 'get' ? undefined : `${clientIndex}.${seq};`;
        const invoke: HistoryEvent = { time: performance.now(), process: processId, type: 'invoke', f, key, value };
        // Half the reads go to a random node, so follower reads (ReadIndex via the leader) are tested too.
        const via = f === 'get' && Math.random() < 0.5 ? cluster.nodes[Math.floor(Math.random() * cluster.nodes.length)]!.id : undefined;
        const res = await router.request(f, key, value, OP_TIMEOUT_MS, via);
        const time = performance.now();
        if (res.ok) {
          events.push(invoke, { time, process: processId, type: 'ok', f, key, value: f === 'get' ? res.value : value });
          if (via === undefined) leaderHint = router.currentTarget;
        } else if (res.error === 'timeout') {
          events.push(invoke, { time, process: processId, type: 'info', f, key, value });
          processId += CLIENTS; // as in Jepsen: a process with an indeterminate op is not reused
        } else {
          events.push(invoke, { time, process: processId, type: 'fail', f, key, value });
          await new Promise((r) => setTimeout(r, 10)); // no leader yet: back off briefly
        }
      }
      router.close();
    };

    const nemesis = async (): Promise<{ kills: number; leaderKills: number }> => {
      let kills = 0;
      let leaderKills = 0;
      let round = 0;
      const elapsed = (): number => Date.now() - startedAt;
      while ((kills < MIN_KILLS || elapsed() < WORKLOAD_MS) && elapsed() < MAX_WORKLOAD_MS) {
        await new Promise((r) => setTimeout(r, 700 + Math.random() * 500));
        const pickLeader = round++ % 2 === 0 && leaderHint !== '';
        const victim = pickLeader
          ? cluster.nodes.find((n) => n.id === leaderHint)!
          : cluster.nodes[Math.floor(Math.random() * cluster.nodes.length)]!;
        await cluster.kill9(victim);
        kills++;
        if (pickLeader) leaderKills++;
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 600));
        await cluster.start(victim);
      }
      await new Promise((r) => setTimeout(r, 1000)); // let clients run on the healed cluster
      stopped = true;
      return { kills, leaderKills };
    };

    const [faults] = await Promise.all([nemesis(), ...Array.from({ length: CLIENTS }, (_, i) => client(i))]);
    expect(faults.kills).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(faults.leaderKills).toBeGreaterThanOrEqual(1);
    for (const node of cluster.nodes) if (!node.process) await cluster.start(node);
    expect(cluster.crashed()).toEqual([]);

    // Final reads of every key, after all nodes are back.
    const reader = new KvRouter(addresses());
    await waitWritable(reader, 15_000);
    const finalValues = new Map<string, string>();
    for (const key of [...KEYS, DURABLE_KEY]) {
      const invoke: HistoryEvent = { time: performance.now(), process: 1000, type: 'invoke', f: 'get', key };
      let res = await reader.request('get', key, undefined, OP_TIMEOUT_MS);
      for (let i = 0; i < 20 && !res.ok; i++) res = await reader.request('get', key, undefined, OP_TIMEOUT_MS);
      expect(res.ok, `final read of ${key}: ${res.error} ${res.message ?? ''}`).toBe(true);
      events.push(invoke, { time: performance.now(), process: 1000, type: 'ok', f: 'get', key, value: res.value });
      finalValues.set(key, res.value!);
    }
    reader.close();

    // Acknowledged appends to the append-only key all survived.
    const durable = finalValues.get(DURABLE_KEY)!;
    const acked = events.filter((e) => e.type === 'ok' && e.f === 'append' && e.key === DURABLE_KEY);
    expect(acked.length).toBeGreaterThan(10);
    for (const e of acked) expect(durable.includes(e.value!), `acknowledged append ${e.value} lost`).toBe(true);

    // Record the history (invoke/ok/fail/info per client, with times) as JSON lines and in the
    // corpus's EDN-like KV form, which `npm run lincheck -- --model kv FILE` reads.
    events.sort((x, y) => x.time - y.time);
    fs.writeFileSync(path.join(baseDir, 'history.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const failed = new Set<string>();
    const pendingByProcess = new Map<number, HistoryEvent>();
    const operations: KvOperation[] = [];
    for (const e of events) {
      if (e.type === 'invoke') {
        pendingByProcess.set(e.process, e);
        continue;
      }
      const inv = pendingByProcess.get(e.process)!;
      pendingByProcess.delete(e.process);
      if (e.type === 'fail') {
        failed.add(`${inv.process}@${inv.time}`);
        continue;
      }
      if (e.type === 'info' && e.f === 'get') continue; // an unanswered read constrains nothing
      operations.push({
        clientId: e.process,
        input: { op: e.f, key: e.key, ...(e.f === 'get' ? {} : { value: inv.value }) },
        output: e.type === 'ok' && e.f === 'get' ? { value: e.value } : {},
        call: inv.time,
        return: e.type === 'ok' ? e.time : Infinity,
      });
    }
    const edn = events.map((e) => {
      // Completions of put/append carry the written value too, as in the corpus.
      const value = e.value === undefined ? '' : `, :value ${JSON.stringify(e.value)}`;
      return `{:process ${e.process}, :type :${e.type}, :f :${e.f}, :key ${JSON.stringify(e.key)}${value}}`;
    });
    fs.writeFileSync(path.join(baseDir, 'history.edn'), edn.join('\n') + '\n');

    const okCount = events.filter((e) => e.type === 'ok').length;
    const infoCount = events.filter((e) => e.type === 'info').length;
    expect(okCount).toBeGreaterThan(100);

    const checkStarted = performance.now();
    const result = checkHistory(kvModel, operations, { timeoutMs: 60_000 });
    const checkMs = performance.now() - checkStarted;
    expect(result.linearizable, result.explanation).toBe(true);

    // The EDN file written for offline checking parses to the same verdict.
    const parsed = parseKvEdn(fs.readFileSync(path.join(baseDir, 'history.edn'), 'utf8'));
    expect(checkHistory(kvModel, parsed, { timeoutMs: 60_000 }).linearizable).toBe(true);
    console.log(`kv history: ${okCount} ok, ${infoCount} info, ${failed.size} fail, ${faults.kills} kills (${faults.leaderKills} leaders); checked in ${checkMs.toFixed(0)} ms`);
  });
});
