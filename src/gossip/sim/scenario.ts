/**
 * The churn scenario used by `npm run sim:gossip` and the simulation tests: form a cluster, then
 * repeatedly crash, restart, leave and rejoin members while measuring how long every live member
 * takes to learn each change, counting false positives and traffic.
 */
import type { GossipConfig } from '../core/config.js';
import { Prng } from '../core/prng.js';
import { SimNetwork, type SimMember } from './network.js';

export interface ScenarioOptions {
  nodes: number;
  seconds: number;
  seed: number;
  loss: number;
  delayMs: number;
  jitterMs: number;
  /** Formation and settling time before measuring, seconds. */
  warmupSeconds: number;
  /** One churn action (crash or leave, alternating) every this many seconds; 0 disables churn. */
  churnEverySeconds: number;
  /** A crashed or departed member comes back after this many seconds. */
  returnAfterSeconds: number;
  /** Members whose event loop stalls stallMs out of every stallEveryMs. */
  stallNodes: number;
  stallMs: number;
  stallEveryMs: number;
  /** Optional partition: from partitionAtSeconds for partitionForSeconds, the first partitionFraction of members vs the rest. */
  partitionAtSeconds?: number;
  partitionForSeconds?: number;
  partitionFraction?: number;
  config?: Partial<GossipConfig>;
  /** Called every simulated minute with progress, for long runs. */
  progress?: (simSeconds: number) => void;
}

export const SCENARIO_DEFAULTS: Omit<ScenarioOptions, 'nodes' | 'seconds' | 'seed' | 'loss'> = {
  delayMs: 1,
  jitterMs: 4,
  warmupSeconds: 60,
  churnEverySeconds: 30,
  returnAfterSeconds: 40,
  stallNodes: 0,
  stallMs: 2000,
  stallEveryMs: 20_000,
};

export interface Distribution {
  count: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
}

export interface ScenarioReport {
  options: Omit<ScenarioOptions, 'progress'>;
  crashes: Distribution;
  crashesNeverDetected: number;
  joins: Distribution;
  joinsIncomplete: number;
  leaves: Distribution;
  leavesIncomplete: number;
  /** (observer, member) pairs where a live member was declared dead. */
  falsePositives: number;
  /** False positives about the stalled members only. */
  falsePositivesAboutStalled: number;
  /** False positives about members that never stall. */
  falsePositivesAboutOthers: number;
  falseSuspicions: number;
  refutations: number;
  partitionHealMs?: number;
  /** Just before healing: fraction of cross-partition (observer, subject) pairs that saw the other side dead. */
  partitionCrossDeadFraction?: number;
  packetsPerMemberPerSec: number;
  bytesPerMemberPerSec: number;
  udpBytesPerMemberPerSec: number;
  tcpBytesPerMemberPerSec: number;
  malformed: number;
  maxHealthScore: number;
  eventsProcessed: number;
  wallMs: number;
}

interface Incident {
  kind: 'crash' | 'join' | 'leave';
  member: string;
  startMs: number;
  pending: Set<string>;
}

function distribution(samples: number[]): Distribution {
  if (samples.length === 0) return { count: 0, medianMs: NaN, p99Ms: NaN, maxMs: NaN };
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { count: s.length, medianMs: q(0.5), p99Ms: q(0.99), maxMs: s[s.length - 1]! };
}

export function runScenario(opts: ScenarioOptions): ScenarioReport {
  if (opts.nodes < 2) throw new Error('need at least 2 nodes');
  const wallStart = Date.now();
  const net = new SimNetwork({ seed: opts.seed, loss: opts.loss, delayMs: opts.delayMs, jitterMs: opts.jitterMs, config: opts.config });
  const rng = new Prng(opts.seed ^ 0x5eed);
  const members: SimMember[] = [];
  for (let i = 0; i < opts.nodes; i++) members.push(net.addMember(`n${i}`));
  const byName = new Map(members.map((m) => [m.name, m]));
  const stalled = new Set(members.slice(opts.nodes - opts.stallNodes).map((m) => m.name));

  const incidents = new Map<string, Incident>();
  const crashSamples: number[] = [];
  const joinSamples: number[] = [];
  const leaveSamples: number[] = [];
  let crashesNeverDetected = 0;
  let joinsIncomplete = 0;
  let leavesIncomplete = 0;
  let falsePositives = 0;
  let fpStalled = 0;
  let fpOthers = 0;
  let falseSuspicions = 0;
  let maxHealth = 0;
  let measuring = false;
  let partitionHealMs: number | undefined;
  let healCheckFrom: number | undefined;
  let partitionCrossDeadFraction: number | undefined;

  const finish = (inc: Incident, observer: string): void => {
    if (!inc.pending.delete(observer) || inc.pending.size > 0) return;
    const took = net.now - inc.startMs;
    if (process.env.GOSSIP_SIM_DEBUG && took > 8_000) console.error(`slow ${inc.kind} of ${inc.member}: ${took} ms, last observer ${observer}`);
    if (inc.kind === 'crash') crashSamples.push(took);
    else if (inc.kind === 'join') joinSamples.push(took);
    else leaveSamples.push(took);
    incidents.delete(inc.member);
  };

  net.onEvent((observer, e) => {
    const subject = byName.get(e.member.name);
    if (!subject) return;
    const inc = incidents.get(subject.name);
    if (inc) {
      if (inc.kind === 'crash' && (e.type === 'dead' || e.type === 'left')) finish(inc, observer.name);
      if (inc.kind === 'leave' && e.type === 'left') finish(inc, observer.name);
      if (inc.kind === 'join' && (e.type === 'joined' || e.type === 'alive' || e.type === 'updated') && e.member.status === 'alive') {
        finish(inc, observer.name);
      }
    }
    if (!measuring || !subject.up || leaving.has(subject.name)) return;
    // The subject's process is running and never asked to leave: declaring it dead is a false positive.
    if (e.type === 'dead') {
      if (process.env.GOSSIP_SIM_DEBUG) {
        console.error(`false positive at ${net.now.toFixed(0)} ms: ${observer.name} declared ${subject.name} dead ` +
          `(incarnation ${e.member.incarnation}, its own ${subject.core?.incarnation}, health ${subject.core?.healthScore()})`);
      }
      falsePositives++;
      if (stalled.has(subject.name)) fpStalled++;
      else fpOthers++;
    }
    if (e.type === 'suspect') falseSuspicions++;
  });

  const liveObservers = (except: string): Set<string> =>
    new Set(members.filter((m) => m.up && m.name !== except && !leaving.has(m.name)).map((m) => m.name));
  const leaving = new Set<string>();

  const dropObserver = (name: string): void => {
    for (const inc of [...incidents.values()]) finish(inc, name);
  };

  // Formation: the first member starts alone; the others join at random times through a random earlier member.
  net.boot(members[0]!, []);
  const formWindow = Math.max(1000, Math.min(opts.warmupSeconds * 500, opts.nodes * 100));
  for (let i = 1; i < opts.nodes; i++) {
    const at = Math.floor(rng.next() * formWindow);
    const m = members[i]!;
    net.at(at, () => net.boot(m, [members[rng.int(i)]!.addr, members[0]!.addr]));
  }

  // Stalls: every stallEveryMs, each stalling member freezes for stallMs (phase randomised).
  for (const name of stalled) {
    const m = byName.get(name)!;
    const phase = rng.int(opts.stallEveryMs);
    const schedule = (t: number): void => {
      if (t > opts.seconds * 1000) return;
      net.at(t, () => {
        net.stall(m, opts.stallMs);
        schedule(t + opts.stallEveryMs);
      });
    };
    schedule(formWindow + phase);
  }

  const warmupMs = opts.warmupSeconds * 1000;
  let baseline = { packets: 0, bytes: 0, udpBytes: 0, tcpBytes: 0 };
  const traffic = (): typeof baseline => {
    let packets = 0;
    let udpBytes = 0;
    let tcpBytes = 0;
    for (const m of members) {
      for (const s of net.totalStats(m)) {
        packets += s.packetsOut + s.streamsOut;
        udpBytes += s.bytesOut;
        tcpBytes += s.streamBytesOut;
      }
    }
    return { packets, bytes: udpBytes + tcpBytes, udpBytes, tcpBytes };
  };
  net.at(warmupMs, () => {
    measuring = true;
    baseline = traffic();
  });

  // Churn: alternate crash and graceful leave of a random non-stalling member; bring it back later.
  if (opts.churnEverySeconds > 0) {
    let n = 0;
    for (let t = warmupMs; t < opts.seconds * 1000 - opts.returnAfterSeconds * 1000; t += opts.churnEverySeconds * 1000) {
      const kind = n++ % 2 === 0 ? 'crash' : 'leave';
      net.at(t, () => {
        const candidates = members.filter((m) => m.up && !stalled.has(m.name) && !leaving.has(m.name) && !incidents.has(m.name));
        if (candidates.length === 0) return;
        const victim = candidates[rng.int(candidates.length)]!;
        incidents.set(victim.name, { kind, member: victim.name, startMs: net.now, pending: liveObservers(victim.name) });
        if (kind === 'crash') {
          net.crash(victim);
          dropObserver(victim.name);
        } else {
          leaving.add(victim.name);
          net.leave(victim);
          dropObserver(victim.name);
        }
        net.at(net.now + opts.returnAfterSeconds * 1000, () => {
          const prior = incidents.get(victim.name);
          if (prior) {
            if (prior.kind === 'crash') crashesNeverDetected++;
            else leavesIncomplete++;
            incidents.delete(victim.name);
          }
          if (victim.up) net.crash(victim); // a departed member's process exits
          leaving.delete(victim.name);
          // A member that has left (its process still winding down) cannot be a seed: its core has
          // stopped answering, so the join would fail and leave the restarted member alone.
          const seeds = members.filter((m) => m.up && m !== victim && !leaving.has(m.name));
          incidents.set(victim.name, { kind: 'join', member: victim.name, startMs: net.now, pending: liveObservers(victim.name) });
          net.boot(victim, [seeds[rng.int(seeds.length)]!.addr]);
        });
      });
    }
  }

  // Partition: members [0, f·N) against the rest, then heal and measure until views agree again.
  if (opts.partitionAtSeconds !== undefined && opts.partitionForSeconds !== undefined) {
    const cut = Math.floor((opts.partitionFraction ?? 0.5) * opts.nodes);
    net.at(opts.partitionAtSeconds * 1000, () => net.setPartition(members.map((_, i) => (i < cut ? 0 : 1))));
    net.at((opts.partitionAtSeconds + opts.partitionForSeconds) * 1000, () => {
      let pairs = 0;
      let dead = 0;
      for (const o of members) for (const subj of members) {
        if (!o.core || !subj.up || (o.index < cut) === (subj.index < cut)) continue;
        pairs++;
        if (o.core.member(subj.name)?.status === 'dead') dead++;
      }
      partitionCrossDeadFraction = pairs === 0 ? 0 : dead / pairs;
      net.setPartition(null);
      healCheckFrom = net.now;
    });
  }

  const endMs = opts.seconds * 1000;
  const stepMs = 1000;
  for (let t = stepMs; t <= endMs; t += stepMs) {
    net.runUntil(t);
    for (const m of members) if (m.core) maxHealth = Math.max(maxHealth, m.core.healthScore());
    // An observer that never saw a member leave or die learns of its restart without any event
    // (alive stays alive at a higher incarnation), so joins also complete on the observer's state.
    for (const inc of [...incidents.values()]) {
      if (inc.kind !== 'join') continue;
      const subject = byName.get(inc.member)!;
      const incarnation = subject.core?.incarnation ?? Infinity;
      for (const o of [...inc.pending]) {
        const seen = byName.get(o)?.core?.member(inc.member);
        if (seen && seen.status === 'alive' && seen.incarnation >= incarnation) finish(inc, o);
      }
    }
    if (healCheckFrom !== undefined && partitionHealMs === undefined && allAgreeAlive(members)) partitionHealMs = net.now - healCheckFrom;
    if (t % 60_000 === 0) opts.progress?.(t / 1000);
  }
  for (const inc of incidents.values()) {
    if (inc.kind === 'join') joinsIncomplete++;
  }

  const end = traffic();
  const memberSeconds = opts.nodes * Math.max(1, (endMs - warmupMs) / 1000);
  let malformed = 0;
  let refutations = 0;
  for (const m of members) for (const s of net.totalStats(m)) {
    malformed += s.malformed;
    refutations += s.refutations;
  }
  const { progress: _ignored, ...printable } = opts;
  return {
    options: printable,
    crashes: distribution(crashSamples),
    crashesNeverDetected,
    joins: distribution(joinSamples),
    joinsIncomplete,
    leaves: distribution(leaveSamples),
    leavesIncomplete,
    falsePositives,
    falsePositivesAboutStalled: fpStalled,
    falsePositivesAboutOthers: fpOthers,
    falseSuspicions,
    refutations,
    partitionHealMs,
    partitionCrossDeadFraction,
    packetsPerMemberPerSec: (end.packets - baseline.packets) / memberSeconds,
    bytesPerMemberPerSec: (end.bytes - baseline.bytes) / memberSeconds,
    udpBytesPerMemberPerSec: (end.udpBytes - baseline.udpBytes) / memberSeconds,
    tcpBytesPerMemberPerSec: (end.tcpBytes - baseline.tcpBytes) / memberSeconds,
    malformed,
    maxHealthScore: maxHealth,
    eventsProcessed: net.eventsProcessed,
    wallMs: Date.now() - wallStart,
  };
}

/** True when every running member sees every running member as alive. */
export function allAgreeAlive(members: SimMember[]): boolean {
  const up = members.filter((m) => m.up && m.core);
  for (const observer of up) {
    for (const subject of up) {
      if (subject === observer) continue;
      if (observer.core!.member(subject.name)?.status !== 'alive') return false;
    }
  }
  return true;
}
