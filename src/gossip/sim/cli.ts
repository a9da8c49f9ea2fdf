/**
 * npm run sim:gossip -- --nodes 200 --loss 0.1 --seconds 3600 [--seed N] [--stall 2000/20000]
 *   [--stall-nodes 1] [--delay-ms 1] [--jitter-ms 4] [--warmup 60] [--churn-every 30]
 *   [--return-after 40] [--partition-at S --partition-for S [--partition-fraction 0.4]]
 *   [--set key=value ...] [--json]
 * Runs the deterministic churn scenario and prints what every live member learned and when.
 */
import { parseArgs } from 'node:util';
import { LAN_DEFAULTS, type GossipConfig } from '../core/config.js';
import { SCENARIO_DEFAULTS, runScenario, type Distribution, type ScenarioOptions } from './scenario.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '50' },
    loss: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string', default: '1' },
    stall: { type: 'string' },
    'stall-nodes': { type: 'string' },
    'delay-ms': { type: 'string' },
    'jitter-ms': { type: 'string' },
    warmup: { type: 'string' },
    'churn-every': { type: 'string' },
    'return-after': { type: 'string' },
    'partition-at': { type: 'string' },
    'partition-for': { type: 'string' },
    'partition-fraction': { type: 'string' },
    set: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

function num(v: string | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${what} must be a number, got "${v}"`);
  return n;
}

const config: Partial<GossipConfig> = {};
for (const kv of values.set ?? []) {
  const [key, raw] = kv.split('=', 2);
  if (!key || raw === undefined || !(key in LAN_DEFAULTS)) throw new Error(`--set ${kv}: unknown config key`);
  const current = (LAN_DEFAULTS as Record<string, unknown>)[key];
  (config as Record<string, unknown>)[key] = typeof current === 'boolean' ? raw === 'true' : num(raw, 0, `set ${key}`);
}

let stallMs = SCENARIO_DEFAULTS.stallMs;
let stallEveryMs = SCENARIO_DEFAULTS.stallEveryMs;
let stallNodes = 0;
if (values.stall) {
  const [a, b] = values.stall.split('/');
  stallMs = num(a, stallMs, 'stall');
  stallEveryMs = num(b, stallEveryMs, 'stall');
  stallNodes = 1;
}
stallNodes = num(values['stall-nodes'], stallNodes, 'stall-nodes');

const opts: ScenarioOptions = {
  ...SCENARIO_DEFAULTS,
  nodes: num(values.nodes, 50, 'nodes'),
  loss: num(values.loss, 0, 'loss'),
  seconds: num(values.seconds, 600, 'seconds'),
  seed: num(values.seed, 1, 'seed'),
  delayMs: num(values['delay-ms'], SCENARIO_DEFAULTS.delayMs, 'delay-ms'),
  jitterMs: num(values['jitter-ms'], SCENARIO_DEFAULTS.jitterMs, 'jitter-ms'),
  warmupSeconds: num(values.warmup, SCENARIO_DEFAULTS.warmupSeconds, 'warmup'),
  churnEverySeconds: num(values['churn-every'], SCENARIO_DEFAULTS.churnEverySeconds, 'churn-every'),
  returnAfterSeconds: num(values['return-after'], SCENARIO_DEFAULTS.returnAfterSeconds, 'return-after'),
  stallNodes,
  stallMs,
  stallEveryMs,
  partitionAtSeconds: values['partition-at'] !== undefined ? num(values['partition-at'], 0, 'partition-at') : undefined,
  partitionForSeconds: values['partition-for'] !== undefined ? num(values['partition-for'], 0, 'partition-for') : undefined,
  partitionFraction: values['partition-fraction'] !== undefined ? num(values['partition-fraction'], 0.5, 'partition-fraction') : undefined,
  config,
  progress: values.json ? undefined : (s) => process.stderr.write(`  simulated ${s} s\n`),
};

const report = runScenario(opts);
if (values.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const d = (x: Distribution): string =>
    x.count === 0 ? 'no samples' : `median ${(x.medianMs / 1000).toFixed(2)} s, p99 ${(x.p99Ms / 1000).toFixed(2)} s, max ${(x.maxMs / 1000).toFixed(2)} s (n=${x.count})`;
  console.log(`gossip simulation: ${opts.nodes} members, ${opts.seconds} s, loss ${opts.loss}, seed ${opts.seed}` +
    (stallNodes > 0 ? `, ${stallNodes} member(s) stalling ${stallMs} ms every ${stallEveryMs} ms` : '') +
    (Object.keys(config).length ? `, config ${JSON.stringify(config)}` : ''));
  console.log(`  crash -> dead at every live member:   ${d(report.crashes)}; never detected ${report.crashesNeverDetected}`);
  console.log(`  join known to every member:           ${d(report.joins)}; incomplete ${report.joinsIncomplete}`);
  console.log(`  leave known to every member:          ${d(report.leaves)}; incomplete ${report.leavesIncomplete}`);
  console.log(`  false positives (live declared dead): ${report.falsePositives} (about stalled members ${report.falsePositivesAboutStalled}, about others ${report.falsePositivesAboutOthers})`);
  console.log(`  suspicions of live members:           ${report.falseSuspicions}; refutations ${report.refutations}`);
  if (report.partitionHealMs !== undefined || opts.partitionAtSeconds !== undefined) {
    console.log(`  partition healed (all agree alive):   ${report.partitionHealMs === undefined ? 'NOT within run' : (report.partitionHealMs / 1000).toFixed(2) + ' s after heal'}`);
  }
  console.log(`  traffic per member:                   ${report.packetsPerMemberPerSec.toFixed(2)} msgs/s, ${(report.bytesPerMemberPerSec / 1024).toFixed(3)} KiB/s (UDP ${(report.udpBytesPerMemberPerSec / 1024).toFixed(3)}, TCP ${(report.tcpBytesPerMemberPerSec / 1024).toFixed(3)})`);
  console.log(`  max local health score:               ${report.maxHealthScore}; malformed packets ${report.malformed}`);
  console.log(`  simulator: ${report.eventsProcessed} events in ${(report.wallMs / 1000).toFixed(1)} s wall`);
}
