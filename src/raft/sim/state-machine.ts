/**
 * The simulated application: an append-only sequence of client operation ids. Reads return the
 * set of ids applied so far, so a read can be checked against every write acknowledged before it.
 */
import type { Entry, Snapshot } from '../types.js';
import { EntryType } from '../types.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class SimStateMachine {
  appliedIndex = 0;
  readonly ops: string[] = [];
  readonly opSet = new Set<string>();

  static fromSnapshot(snap: Snapshot | null): SimStateMachine {
    const sm = new SimStateMachine();
    if (snap) sm.restore(snap);
    return sm;
  }

  restore(snap: Snapshot): void {
    const parsed = JSON.parse(decoder.decode(snap.data)) as { ops: string[] };
    this.ops.length = 0;
    this.opSet.clear();
    for (const op of parsed.ops) {
      this.ops.push(op);
      this.opSet.add(op);
    }
    this.appliedIndex = snap.meta.index;
  }

  encode(): Uint8Array {
    return encoder.encode(JSON.stringify({ ops: this.ops }));
  }

  /** Apply one committed entry; returns the client op id it carried, if any. */
  apply(e: Entry): string | null {
    if (e.index !== this.appliedIndex + 1) throw new Error(`sim state machine: apply ${e.index} after ${this.appliedIndex}`);
    this.appliedIndex = e.index;
    if (e.type !== EntryType.Normal || e.data.length === 0) return null;
    const op = decoder.decode(e.data);
    this.ops.push(op);
    this.opSet.add(op);
    return op;
  }
}

export function encodeOp(op: string): Uint8Array {
  return encoder.encode(op);
}
