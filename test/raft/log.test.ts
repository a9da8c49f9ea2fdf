import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32c, FileLog, HARD_STATE_FILE, SNAPSHOT_FILE } from '../../src/raft/log/index.js';
import { LogCorruptionError, type Entry } from '../../src/raft/types.js';

let root: string;
let counter = 0;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'raftlog-'));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function freshDir(): string {
  return path.join(root, `log-${counter++}`);
}

function ent(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: 0, data: new TextEncoder().encode(text) };
}

function range(lo: number, hi: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(ent(i, term));
  return out;
}

function summary(log: FileLog): string[] {
  if (log.lastIndex() < log.firstIndex()) return [];
  return log.entries(log.firstIndex(), log.lastIndex() + 1).map((e) => `${e.index}:${e.term}:${new TextDecoder().decode(e.data)}`);
}

function walFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
}

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  });
});

describe('FileLog basics', () => {
  it('starts empty, appends, reads ranges with a byte budget, and survives reopen', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    expect(log.firstIndex()).toBe(1);
    expect(log.lastIndex()).toBe(0);
    expect(log.term(0)).toBe(0);
    expect(log.term(1)).toBeUndefined();
    log.append(range(1, 5, 1));
    expect(log.lastIndex()).toBe(5);
    expect(log.entries(2, 4).map((e) => e.index)).toEqual([2, 3]);
    expect(log.entries(1, 6, 1).map((e) => e.index)).toEqual([1]); // at least one entry
    expect(log.entries(1, 6, 8).map((e) => e.index)).toEqual([1, 2]);
    expect(() => log.append([ent(7, 1)])).toThrow(/gap/);
    await log.sync();
    await log.close();
    const again = await FileLog.open(dir);
    expect(summary(again)).toEqual(summary(log));
    await again.close();
  });

  it('appends that were never synced may be lost, synced ones never', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.append(range(1, 3, 1));
    await log.sync();
    log.append(range(4, 6, 1));
    // Simulate a crash: drop the object without sync/close. Nothing was written for 4..6.
    const again = await FileLog.open(dir);
    expect(again.lastIndex()).toBe(3);
    await again.close();
    await log.close(); // release the handle the "crashed" instance still holds
  });

  it('concurrent sync callers share one flush round (group commit)', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    const waits: Promise<void>[] = [];
    for (let i = 1; i <= 100; i++) {
      log.append([ent(i, 1)]);
      waits.push(log.sync());
    }
    await Promise.all(waits);
    // The first call starts a round with entry 1; everything else joins the next round.
    expect(log.stats.rounds).toBeLessThanOrEqual(2);
    expect(log.stats.fsyncs).toBeLessThanOrEqual(2);
    await log.close();
    const again = await FileLog.open(dir);
    expect(again.lastIndex()).toBe(100);
    await again.close();
  });

  it('rolls segments at the size bound', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir, { segmentBytes: 200 });
    for (let i = 1; i <= 30; i++) log.append([ent(i, 1)]);
    await log.sync();
    expect(walFiles(dir).length).toBeGreaterThan(3);
    expect(walFiles(dir)[0]).toBe('00000000000000000001.wal');
    await log.close();
    const again = await FileLog.open(dir, { segmentBytes: 200 });
    expect(summary(again)).toEqual(range(1, 30, 1).map((e) => `${e.index}:1:e${e.index}t1`));
    await again.close();
  });

  it('skips entries it already has and refuses to overwrite a committed one', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.append(range(1, 5, 1));
    log.setHardState({ term: 1, vote: 'a', commit: 3 });
    log.append(range(2, 4, 1)); // same terms: nothing changes, 5 stays
    expect(log.lastIndex()).toBe(5);
    expect(() => log.append([ent(3, 2)])).toThrow(/committed/);
    await log.close();
  });
});

describe('truncation of a conflicting suffix', () => {
  it('is durable across a restart', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.append(range(1, 10, 1));
    await log.sync();
    log.append([ent(6, 2), ent(7, 2)]);
    expect(log.lastIndex()).toBe(7);
    await log.sync();
    await log.close();
    const again = await FileLog.open(dir);
    expect(summary(again)).toEqual([...range(1, 5, 1), ent(6, 2), ent(7, 2)].map((e) => `${e.index}:${e.term}:e${e.index}t${e.term}`));
    // And the log keeps growing correctly after the cut.
    again.append([ent(8, 2)]);
    await again.sync();
    await again.close();
    const third = await FileLog.open(dir);
    expect(third.lastIndex()).toBe(8);
    expect(third.term(5)).toBe(1);
    expect(third.term(8)).toBe(2);
    await third.close();
  });

  it('across segment boundaries, and with several truncations before one sync', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir, { segmentBytes: 120 });
    log.append(range(1, 20, 1));
    await log.sync();
    const before = walFiles(dir).length;
    expect(before).toBeGreaterThan(3);
    log.append(range(12, 14, 2)); // cut at 12
    log.append(range(6, 8, 3)); // cut further back at 6, before the first cut reached disk
    await log.sync();
    expect(walFiles(dir).length).toBeLessThan(before);
    await log.close();
    const again = await FileLog.open(dir, { segmentBytes: 120 });
    expect(again.lastIndex()).toBe(8);
    expect([5, 6, 7, 8].map((i) => again.term(i))).toEqual([1, 3, 3, 3]);
    await again.close();
  });

  it('a truncation that races an in-flight flush still ends correct on disk', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.append(range(1, 10, 1));
    const first = log.sync(); // round in flight writes 1..10
    log.append(range(4, 5, 2)); // conflicts with entries that round is writing
    const second = log.sync();
    await Promise.all([first, second]);
    await log.close();
    const again = await FileLog.open(dir);
    expect(again.lastIndex()).toBe(5);
    expect([3, 4, 5].map((i) => again.term(i))).toEqual([1, 2, 2]);
    await again.close();
  });
});

describe('hard state', () => {
  it('round-trips through a restart; commit also rides in the WAL', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.append(range(1, 4, 2));
    log.setHardState({ term: 2, vote: 'n2', commit: 1 });
    await log.sync();
    log.setHardState({ term: 2, vote: 'n2', commit: 4 }); // commit only: no hard state file rewrite
    await log.sync();
    await log.close();
    const again = await FileLog.open(dir);
    expect(again.hardState).toEqual({ term: 2, vote: 'n2', commit: 4 });
    await again.close();
  });

  it('is replaced atomically: a leftover temp file from a crashed write is ignored', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.setHardState({ term: 5, vote: 'n1', commit: 0 });
    await log.sync();
    await log.close();
    fs.writeFileSync(path.join(dir, HARD_STATE_FILE + '.tmp'), 'half-written garbage');
    const again = await FileLog.open(dir);
    expect(again.hardState).toEqual({ term: 5, vote: 'n1', commit: 0 });
    expect(fs.existsSync(path.join(dir, HARD_STATE_FILE + '.tmp'))).toBe(false);
    await again.close();
  });

  it('a damaged hard state file is refused, not guessed at', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.setHardState({ term: 3, vote: 'n3', commit: 0 });
    await log.sync();
    await log.close();
    const file = path.join(dir, HARD_STATE_FILE);
    const bytes = fs.readFileSync(file);
    bytes[6] = bytes[6]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    await expect(FileLog.open(dir)).rejects.toBeInstanceOf(LogCorruptionError);
  });

  it('refuses a second vote in the same term and a term going backwards', async () => {
    const log = await FileLog.open(freshDir());
    log.setHardState({ term: 4, vote: 'a', commit: 0 });
    expect(() => log.setHardState({ term: 4, vote: 'b', commit: 0 })).toThrow(/second vote/);
    expect(() => log.setHardState({ term: 3, vote: '', commit: 0 })).toThrow(/backwards/);
    await log.close();
  });
});

describe('snapshots and compaction', () => {
  const conf = { voters: ['n1', 'n2', 'n3'], learners: [] };

  it('save/load round-trips and compaction drops whole segments below the snapshot', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir, { segmentBytes: 150 });
    log.append(range(1, 40, 1));
    log.setHardState({ term: 1, vote: 'n1', commit: 30 });
    await log.sync();
    const segmentsBefore = walFiles(dir);
    const data = new TextEncoder().encode('state-at-25');
    await log.saveSnapshot({ meta: { index: 25, term: 1, conf }, data });
    expect(log.firstIndex()).toBe(26);
    expect(log.term(25)).toBe(1);
    expect(log.term(24)).toBeUndefined();
    expect(() => log.entries(25, 27)).toThrow(/compacted/);
    await log.sync();
    const segmentsAfter = walFiles(dir);
    expect(segmentsAfter.length).toBeLessThan(segmentsBefore.length);
    // Every remaining segment still holds something above the snapshot, and the first covers 26.
    expect(Number(segmentsAfter[0]!.slice(0, 20))).toBeLessThanOrEqual(26);
    await log.close();

    const again = await FileLog.open(dir, { segmentBytes: 150 });
    expect(again.snapshotMeta).toEqual({ index: 25, term: 1, conf });
    expect(again.firstIndex()).toBe(26);
    expect(again.lastIndex()).toBe(40);
    const snap = await again.loadSnapshot();
    expect(new TextDecoder().decode(snap!.data)).toBe('state-at-25');
    await again.close();
  });

  it('compact() requires a snapshot that covers the index', async () => {
    const log = await FileLog.open(freshDir());
    log.append(range(1, 5, 1));
    expect(() => log.compact(3)).toThrow(/snapshot/);
    await log.close();
  });

  it('a snapshot beyond the log replaces it; appends continue after the snapshot', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.append(range(1, 5, 1));
    await log.sync();
    await log.saveSnapshot({ meta: { index: 50, term: 4, conf }, data: new Uint8Array([1, 2, 3]) });
    expect(log.firstIndex()).toBe(51);
    expect(log.lastIndex()).toBe(50);
    expect(log.term(50)).toBe(4);
    expect(log.hardState.commit).toBe(50);
    log.append([ent(51, 4), ent(52, 4)]);
    await log.sync();
    await log.close();
    expect(walFiles(dir)).toEqual(['00000000000000000051.wal']);
    const again = await FileLog.open(dir);
    expect(again.firstIndex()).toBe(51);
    expect(again.lastIndex()).toBe(52);
    expect(again.term(50)).toBe(4);
    expect(again.hardState.commit).toBe(50);
    await again.close();
  });

  it('a crash between writing the snapshot and dropping a conflicting log discards that log on recovery', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.append(range(1, 8, 1));
    await log.sync();
    await log.close();
    // The snapshot's last entry (6, term 3) conflicts with the log's (6, term 1): the log is stale.
    const { encodeSnapshot } = await import('../../src/raft/log/files.js');
    fs.writeFileSync(path.join(dir, SNAPSHOT_FILE), encodeSnapshot({ meta: { index: 6, term: 3, conf }, data: new Uint8Array() }));
    const again = await FileLog.open(dir);
    expect(again.firstIndex()).toBe(7);
    expect(again.lastIndex()).toBe(6);
    expect(walFiles(dir)).toEqual([]);
    await again.close();
  });

  it('a damaged snapshot file is refused', async () => {
    const dir = freshDir();
    const log = await FileLog.open(dir);
    log.append(range(1, 3, 1));
    await log.sync();
    await log.saveSnapshot({ meta: { index: 2, term: 1, conf }, data: new Uint8Array(100).fill(7) });
    await log.close();
    const file = path.join(dir, SNAPSHOT_FILE);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    fs.writeFileSync(file, bytes);
    const err = await FileLog.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogCorruptionError);
    expect((err as LogCorruptionError).file).toBe(file);
  });
});
