/** The replicated state: a string map with put and append. Commands are msgpack [op, key, value]. */
import { packr } from './framing.js';
import type { Entry } from '../types.js';
import type { StateMachine } from './raft-host.js';

export type KvCommand = ['put' | 'append', string, string];

export function encodeCommand(cmd: KvCommand): Uint8Array {
  return packr.pack(cmd);
}

export class KvStateMachine implements StateMachine {
  private readonly data = new Map<string, string>();

  get(key: string): string {
    return this.data.get(key) ?? '';
  }

  get size(): number {
    return this.data.size;
  }

  apply(entry: Entry): void {
    const cmd = packr.unpack(entry.data) as KvCommand;
    if (!Array.isArray(cmd) || cmd.length !== 3 || typeof cmd[1] !== 'string' || typeof cmd[2] !== 'string') {
      throw new Error(`malformed KV command at index ${entry.index}`);
    }
    const [op, key, value] = cmd;
    if (op === 'put') this.data.set(key, value);
    else if (op === 'append') this.data.set(key, (this.data.get(key) ?? '') + value);
    else throw new Error(`unknown KV op ${String(op)} at index ${entry.index}`);
  }

  snapshot(): Uint8Array {
    return serialize([...this.data.entries()]);
  }

  /** Captures the state now (values are immutable strings) and serializes it later, in slices. */
  captureSnapshot(): () => Promise<Uint8Array> {
    const pairs = [...this.data.entries()];
    return async () => {
      const parts: Uint8Array[] = [packr.pack(SNAPSHOT_VERSION)];
      for (let i = 0; i < pairs.length; i += SNAPSHOT_SLICE) {
        parts.push(packr.pack(pairs.slice(i, i + SNAPSHOT_SLICE)));
        await new Promise((resolve) => setImmediate(resolve));
      }
      return Buffer.concat(parts);
    };
  }

  restore(data: Uint8Array): void {
    const values = packr.unpackMultiple(data) as unknown[];
    if (values[0] !== SNAPSHOT_VERSION) throw new Error(`unknown KV snapshot version ${String(values[0])}`);
    this.data.clear();
    for (let i = 1; i < values.length; i++) for (const [k, v] of values[i] as [string, string][]) this.data.set(k, v);
  }
}

/** Snapshot: a version number, then arrays of [key, value] pairs, as consecutive msgpack values. */
const SNAPSHOT_VERSION = 1;
const SNAPSHOT_SLICE = 512;

function serialize(pairs: [string, string][]): Uint8Array {
  const parts: Uint8Array[] = [packr.pack(SNAPSHOT_VERSION)];
  for (let i = 0; i < pairs.length; i += SNAPSHOT_SLICE) parts.push(packr.pack(pairs.slice(i, i + SNAPSHOT_SLICE)));
  return Buffer.concat(parts);
}
