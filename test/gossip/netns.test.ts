import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { MemberProcess, waitAll } from './proc.js';

// Five members, each in its own network namespace on one bridge; iptables inside the namespaces
// cut a 2 | 3 partition. Push/pull and reconnect run every 5 s here (default 30 s) to keep the
// test short; the merge after healing is measured against that interval.
const PUSH_PULL_MS = 5000;

function missingPrerequisite(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const tool of ['ip', 'iptables']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not installed (apt-get install -y iproute2 iptables)`;
    }
  }
  return null;
}

const skipReason = missingPrerequisite();
if (skipReason) console.warn(`gossip netns partition test skipped: ${skipReason}`);

function sh(args: string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

function shQuiet(args: string[]): void {
  try {
    sh(args);
  } catch {
    // best-effort cleanup
  }
}

describe.skipIf(skipReason !== null)('gossip across network namespaces', () => {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`.slice(-8);
  const bridge = `gbr${id}`;
  const subnet = `10.177.${1 + (parseInt(id.slice(-2), 16) % 250)}`;
  const ns = (i: number): string => `gsp-${id}-${i}`;
  const ip = (i: number): string => `${subnet}.${i}`;
  const procs: MemberProcess[] = [];
  const created: number[] = [];
  let bridgeCreated = false;

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    for (const i of created) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns(i)]).toString().split(/\s+/).filter(Boolean);
        for (const pid of pids) shQuiet(['kill', '-9', pid]);
      } catch {
        // namespace already gone
      }
      shQuiet(['ip', 'netns', 'del', ns(i)]);
    }
    if (bridgeCreated) shQuiet(['ip', 'link', 'del', bridge]);
  });

  it('a 2|3 partition makes each side declare the other dead; after healing the views merge', async () => {
    sh(['ip', 'link', 'add', bridge, 'type', 'bridge']);
    bridgeCreated = true;
    sh(['ip', 'link', 'set', bridge, 'up']);
    for (let i = 1; i <= 5; i++) {
      sh(['ip', 'netns', 'add', ns(i)]);
      created.push(i);
      const host = `gv${id}${i}`;
      const peer = `gp${id}${i}`;
      sh(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
      sh(['ip', 'link', 'set', peer, 'netns', ns(i)]);
      sh(['ip', 'link', 'set', host, 'master', bridge, 'up']);
      sh(['ip', 'netns', 'exec', ns(i), 'ip', 'addr', 'add', `${ip(i)}/24`, 'dev', peer]);
      sh(['ip', 'netns', 'exec', ns(i), 'ip', 'link', 'set', peer, 'up']);
      sh(['ip', 'netns', 'exec', ns(i), 'ip', 'link', 'set', 'lo', 'up']);
    }
    const settings = ['--set', `pushPullIntervalMs=${PUSH_PULL_MS}`, '--set', `reconnectIntervalMs=${PUSH_PULL_MS}`];
    for (let i = 1; i <= 5; i++) {
      const join = i === 1 ? [] : ['--join', `${ip(1)}:7946`];
      procs.push(new MemberProcess(`n${i}`, ['--bind', `${ip(i)}:7946`, ...join, ...settings], ['ip', 'netns', 'exec', ns(i)]));
      if (i === 1) await procs[0]!.waitFor(() => procs[0]!.port > 0, 20_000, 'n1 listening');
    }
    const names = procs.map((p) => p.name);
    await waitAll(procs, (p) => names.every((n) => n === p.name || p.statusOf(n) === 'alive'), 30_000, 'all alive');

    // Partition {n1, n2} | {n3, n4, n5}.
    const sideA = [1, 2];
    const sideB = [3, 4, 5];
    const cut = (mine: number[], theirs: number[]): void => {
      for (const i of mine) for (const j of theirs) {
        sh(['ip', 'netns', 'exec', ns(i), 'iptables', '-I', 'INPUT', '-s', ip(j), '-j', 'DROP']);
        sh(['ip', 'netns', 'exec', ns(i), 'iptables', '-I', 'OUTPUT', '-d', ip(j), '-j', 'DROP']);
      }
    };
    cut(sideA, sideB);
    cut(sideB, sideA);
    const byIndex = (i: number): MemberProcess => procs[i - 1]!;
    const partitionMs = await waitAll(procs, (p) => {
      const mine = sideA.includes(Number(p.name.slice(1))) ? sideA : sideB;
      const theirs = mine === sideA ? sideB : sideA;
      return theirs.every((j) => p.statusOf(`n${j}`) === 'dead') && mine.every((j) => j === Number(p.name.slice(1)) || p.statusOf(`n${j}`) === 'alive');
    }, 60_000, 'each side sees the other dead');
    console.log(`partition: each side saw the other dead after ${partitionMs} ms`);

    // Heal and measure until every member sees every other alive again.
    for (let i = 1; i <= 5; i++) sh(['ip', 'netns', 'exec', ns(i), 'iptables', '-F']);
    const healMs = await waitAll(procs, (p) => names.every((n) => n === p.name || p.statusOf(n) === 'alive'),
      3 * PUSH_PULL_MS, 'views merged after heal');
    console.log(`partition healed: views merged ${healMs} ms after removing the rules (push/pull interval ${PUSH_PULL_MS} ms)`);
    expect(healMs).toBeLessThanOrEqual(PUSH_PULL_MS + 2000);
    expect(byIndex(1).statusOf('n5')).toBe('alive');
  });
});
