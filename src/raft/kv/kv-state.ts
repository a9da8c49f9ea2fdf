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
    return packr.pack([...this.data.entries()]);
  }

  restore(data: Uint8Array): void {
    this.data.clear();
    for (const [k, v] of packr.unpack(data) as [string, string][]) this.data.set(k, v);
  }
}
