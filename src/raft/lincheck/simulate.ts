/**
 * Generates histories of an ideal (atomic) object under concurrent clients, for tests and the
 * benchmark: each operation takes effect at a random instant inside its interval, so the history
 * is linearizable by construction. Lost operations (client timed out) take effect or not at random
 * and get return = Infinity; like Jepsen, the client is then replaced by a fresh client id.
 */
import type { KvInput, KvOutput } from './models/kv.js';
import type { RegisterInput, RegisterOutput, RegisterValue } from './models/register.js';
import type { SetInput, SetOutput } from './models/set.js';
import type { Operation } from './types.js';
import { mulberry32 } from '../../util/prng.js';

export interface SimulationOptions {
  seed: number;
  clients: number;
  operations: number;
  /** Fraction of operations whose client never learns the outcome. */
  lostRate: number;
}

interface Spec<State, Input, Output> {
  init: State;
  nextInput(random: () => number): Input;
  /** The atomic object: new state and the output the client would see. */
  apply(state: State, input: Input): [State, Output];
  /** Output recorded for a lost operation (never read by the checker). */
  lostOutput: Output;
}

function simulate<State, Input, Output>(options: SimulationOptions, spec: Spec<State, Input, Output>): Operation<Input, Output>[] {
  const random = mulberry32(options.seed);
  const clientClock = Array.from({ length: options.clients }, () => random() * 10);
  const clientIds = Array.from({ length: options.clients }, (_, i) => i);
  let nextClientId = options.clients;
  const planned: { op: Operation<Input, Output>; effectAt: number; takesEffect: boolean }[] = [];
  for (let i = 0; i < options.operations; i++) {
    const slot = Math.floor(random() * options.clients);
    const call = clientClock[slot]! + random() * 5;
    const duration = 1 + random() * 20;
    const lost = random() < options.lostRate;
    const op: Operation<Input, Output> = {
      clientId: clientIds[slot]!,
      input: spec.nextInput(random),
      output: spec.lostOutput,
      call,
      return: lost ? Infinity : call + duration,
    };
    // A lost operation may land long after its client gave up, or never.
    const effectAt = call + random() * (lost ? duration * 4 : duration);
    planned.push({ op, effectAt, takesEffect: !lost || random() < 0.5 });
    clientClock[slot] = call + duration;
    if (lost) clientIds[slot] = nextClientId++;
  }
  let state = spec.init;
  for (const item of [...planned].sort((a, b) => a.effectAt - b.effectAt)) {
    if (!item.takesEffect) continue;
    const [next, output] = spec.apply(state, item.op.input);
    state = next;
    if (item.op.return !== Infinity) item.op.output = output;
  }
  return planned.map((item) => item.op);
}

export function simulateRegister(options: SimulationOptions): Operation<RegisterInput, RegisterOutput>[] {
  const value = (random: () => number): RegisterValue => Math.floor(random() * 5);
  return simulate<RegisterValue | null, RegisterInput, RegisterOutput>(options, {
    init: null,
    lostOutput: {},
    nextInput(random) {
      const kind = random();
      if (kind < 0.4) return { op: 'read' };
      if (kind < 0.7) return { op: 'write', value: value(random) };
      return { op: 'cas', from: value(random), to: value(random) };
    },
    apply(state, input) {
      if (input.op === 'read') return [state, { value: state }];
      if (input.op === 'write') return [input.value, {}];
      return state === input.from ? [input.to, { ok: true }] : [state, { ok: false }];
    },
  });
}

export function simulateKv(options: SimulationOptions & { keys: number }): Operation<KvInput, KvOutput>[] {
  let counter = 0;
  return simulate<ReadonlyMap<string, string>, KvInput, KvOutput>(options, {
    init: new Map(),
    lostOutput: {},
    nextInput(random) {
      const key = String(Math.floor(random() * options.keys));
      const kind = random();
      if (kind < 0.5) return { op: 'get', key };
      return { op: kind < 0.6 ? 'put' : 'append', key, value: `x${counter++}y` };
    },
    apply(state, input) {
      const current = state.get(input.key) ?? '';
      if (input.op === 'get') return [state, { value: current }];
      const next = new Map(state);
      next.set(input.key, input.op === 'put' ? input.value! : current + input.value!);
      return [next, {}];
    },
  });
}

export function simulateSet(options: SimulationOptions): Operation<SetInput, SetOutput>[] {
  let counter = 0;
  return simulate<readonly number[], SetInput, SetOutput>(options, {
    init: [],
    lostOutput: {},
    nextInput: (random) => (random() < 0.5 ? { op: 'read' } : { op: 'add', value: counter++ }),
    apply(state, input) {
      if (input.op === 'read') return [state, { values: [...state] }];
      return [[...state, input.value as number], {}];
    },
  });
}
