/**
 * A binary min-heap ordered by a caller's `before(a, b)`. The simulators and the gossip timer wheel
 * order by (time, insertion sequence), so equal times pop in insertion order and runs are
 * deterministic; `byTimeThenSeq` builds that order for any field name.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(a[i]!, a[parent]!)) break;
      swap(a, i, parent);
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        swap(a, i, m);
        i = m;
      }
    }
    return top;
  }
}

/** (time, seq) order on the named time field: earliest first, ties in insertion order. */
export function byTimeThenSeq<K extends string>(field: K): (a: Record<K, number> & { seq: number }, b: Record<K, number> & { seq: number }) => boolean {
  return (a, b) => a[field] < b[field] || (a[field] === b[field] && a.seq < b.seq);
}

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
