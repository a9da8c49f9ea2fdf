/**
 * Lowe's memo cache: the set of (linearized operations, model state) configurations already
 * explored. Stored in flat typed arrays (open addressing, bitsets in one arena) because a hard
 * search can hold millions of entries, and a typed array per entry costs more than its bits.
 */
import type { LinearizedSet } from './bitset.js';

const EMPTY = 0;
const INITIAL_CAPACITY = 1024;

export class MemoCache {
  /** Open-addressing table of entry index + 1 (0 = empty). Length is a power of two. */
  private slots = new Int32Array(INITIAL_CAPACITY * 2);
  private hashHigh = new Uint32Array(INITIAL_CAPACITY);
  private hashLow = new Uint32Array(INITIAL_CAPACITY);
  private stateIds = new Int32Array(INITIAL_CAPACITY);
  private arena: Uint32Array;
  private count = 0;

  constructor(private readonly wordsPerSet: number) {
    this.arena = new Uint32Array(INITIAL_CAPACITY * wordsPerSet);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the typed arrays (what bounds memory use). */
  get bytes(): number {
    return this.slots.byteLength + this.hashHigh.byteLength + this.hashLow.byteLength + this.stateIds.byteLength + this.arena.byteLength;
  }

  /** Adds (set, stateId) unless present; returns whether it was added. */
  addIfAbsent(set: LinearizedSet, stateId: number): boolean {
    if (set.words.length !== this.wordsPerSet) throw new Error('bitset size differs from the cache');
    const high = (set.hashHigh ^ Math.imul(stateId + 1, 0x9e3779b1)) >>> 0;
    const low = (set.hashLow ^ Math.imul(stateId + 1, 0x85ebca77)) >>> 0;
    const mask = this.slots.length - 1;
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      const stored = this.slots[slot]!;
      if (stored === EMPTY) {
        this.insert(slot, set, high, low, stateId);
        return true;
      }
      const entry = stored - 1;
      if (this.hashHigh[entry] === high && this.stateIds[entry] === stateId && this.sameWords(entry, set.words)) {
        return false;
      }
    }
  }

  private sameWords(entry: number, words: Uint32Array): boolean {
    const base = entry * this.wordsPerSet;
    for (let i = 0; i < words.length; i++) if (this.arena[base + i] !== words[i]) return false;
    return true;
  }

  private insert(slot: number, set: LinearizedSet, high: number, low: number, stateId: number): void {
    const entry = this.count++;
    if (entry >= this.hashHigh.length) this.growEntries();
    this.hashHigh[entry] = high;
    this.hashLow[entry] = low;
    this.stateIds[entry] = stateId;
    this.arena.set(set.words, entry * this.wordsPerSet);
    this.slots[slot] = entry + 1;
    if (this.count * 2 > this.slots.length) this.rehash();
  }

  private growEntries(): void {
    const capacity = this.hashHigh.length * 2;
    this.hashHigh = grow(this.hashHigh, new Uint32Array(capacity));
    this.hashLow = grow(this.hashLow, new Uint32Array(capacity));
    this.stateIds = grow(this.stateIds, new Int32Array(capacity));
    this.arena = grow(this.arena, new Uint32Array(capacity * this.wordsPerSet));
  }

  /** Doubles the table, keeping it at most half full so probe runs stay short. */
  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = this.hashLow[entry]! & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}

function grow<T extends Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
