/**
 * Types shared by the Raft core (pure), its durable log, the simulator and the hosts.
 * Node ids are strings (stable across restarts); terms and indexes are non-negative integers
 * well inside Number.MAX_SAFE_INTEGER.
 */
export type NodeId = string;

export const enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Opaque to Raft for Normal entries; an encoded ConfChange for ConfChange entries. Empty for the leader's no-op. */
  data: Uint8Array;
}

/** Persisted atomically before any message that depends on it is sent. */
export interface HardState {
  term: number;
  vote: NodeId | '';
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/**
 * Durable log storage, driven by the host from the core's Ready. Writes are buffered until
 * `sync()`, which makes everything appended so far durable at once (group commit).
 */
export interface DurableLog {
  /** What recovery found on disk. A torn tail is dropped; a corrupted middle throws LogCorruptionError. */
  readonly hardState: HardState;
  readonly snapshotMeta: SnapshotMeta | null;
  firstIndex(): number; // first index still in the log (snapshot.index + 1 when compacted)
  lastIndex(): number; // 0 when empty and no snapshot
  term(index: number): number | undefined; // undefined when compacted away or beyond lastIndex
  entries(lo: number, hi: number, maxBytes?: number): Entry[]; // [lo, hi)

  /** Append; entries[0].index <= lastIndex()+1, and a conflicting suffix is truncated first. */
  append(entries: Entry[]): void;
  setHardState(hs: HardState): void;
  /** Make every append and hard state so far durable (fsync). */
  sync(): Promise<void>;

  /** Store a snapshot durably and drop the log prefix it covers. */
  saveSnapshot(snap: Snapshot): Promise<void>;
  loadSnapshot(): Promise<Snapshot | null>;
  /** Drop entries <= index (must be covered by a saved snapshot). */
  compact(index: number): void;

  close(): Promise<void>;
}

export class LogCorruptionError extends Error {
  override name = 'LogCorruptionError';
  constructor(message: string, readonly file: string, readonly offset: number) {
    super(message);
  }
}
