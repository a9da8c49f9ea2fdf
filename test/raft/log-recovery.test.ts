import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileLog, ENTRY_HEADER, RECORD_OVERHEAD } from '../../src/raft/log/index.js';
import { LogCorruptionError, type Entry } from '../../src/raft/types.js';

// Exhaustive damage test: cut or flip the log at EVERY byte offset and check what recovery does.

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'raftlog-recovery-'));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function makeEntries(n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 1; i <= n; i++) {
    // Varying sizes (including empty) so record boundaries are irregular.
    const data = new Uint8Array((i * 7) % 23);
    for (let j = 0; j < data.length; j++) data[j] = (i * 31 + j * 17) & 0xff;
    out.push({ index: i, term: 1 + Math.floor(i / 4), type: 0, data });
  }
  return out;
}

function recordSize(e: Entry): number {
  return RECORD_OVERHEAD + ENTRY_HEADER + e.data.length;
}

async function writeLog(dir: string, entries: Entry[], segmentBytes?: number): Promise<string[]> {
  const log = await FileLog.open(dir, { segmentBytes });
  for (const e of entries) log.append([e]); // one by one: records in order, no commit records
  await log.sync();
  const files = log.segmentFiles();
  await log.close();
  return files;
}

function expectEntries(got: Entry[], want: Entry[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(got[i]!.index).toBe(want[i]!.index);
    expect(got[i]!.term).toBe(want[i]!.term);
    expect(got[i]!.type).toBe(want[i]!.type);
    expect(Buffer.from(got[i]!.data).equals(Buffer.from(want[i]!.data))).toBe(true);
  }
}

interface Layout {
  file: string;
  /** Entries held by this file. */
  entries: Entry[];
  /** starts[i] = byte offset of record i; starts[n] = file length. */
  starts: number[];
}

function layoutOf(files: string[], entries: Entry[]): Layout[] {
  const out: Layout[] = [];
  let k = 0;
  for (const file of files) {
    const size = fs.statSync(file).size;
    const starts = [0];
    const held: Entry[] = [];
    while (starts[starts.length - 1]! < size) {
      const e = entries[k++]!;
      held.push(e);
      starts.push(starts[starts.length - 1]! + recordSize(e));
    }
    expect(starts[starts.length - 1]).toBe(size);
    out.push({ file, entries: held, starts });
  }
  expect(k).toBe(entries.length);
  return out;
}

/** Largest record boundary <= offset. */
function recordStartAt(starts: number[], offset: number): number {
  let best = 0;
  for (const s of starts) if (s <= offset) best = s;
  return best;
}

function copyDir(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

type Outcome = { entries: Entry[] } | { error: unknown };

async function reopen(dir: string): Promise<Outcome> {
  try {
    const log = await FileLog.open(dir);
    const entries = log.lastIndex() >= log.firstIndex() ? log.entries(log.firstIndex(), log.lastIndex() + 1) : [];
    await log.close();
    return { entries };
  } catch (error) {
    return { error };
  }
}

function expectCorruption(outcome: Outcome, file: string, offset: number): void {
  expect('error' in outcome, `expected LogCorruptionError at ${path.basename(file)}:${offset}`).toBe(true);
  const err = (outcome as { error: unknown }).error;
  expect(err).toBeInstanceOf(LogCorruptionError);
  expect((err as LogCorruptionError).file).toBe(file);
  expect((err as LogCorruptionError).offset).toBe(offset);
  expect((err as LogCorruptionError).message).toContain(path.basename(file));
}

function expectRecovered(outcome: Outcome, want: Entry[], what: string): void {
  if ('error' in outcome) throw new Error(`${what}: unexpected error ${String(outcome.error)}`);
  expectEntries(outcome.entries, want);
}

describe('recovery at every byte offset, one segment', () => {
  const entries = makeEntries(8);
  let pristine: string;
  let layout: Layout;

  beforeAll(async () => {
    pristine = path.join(root, 'one-pristine');
    const files = await writeLog(pristine, entries);
    expect(files.length).toBe(1);
    layout = layoutOf(files, entries)[0]!;
  });

  it('a cut at any offset recovers exactly the whole records before it, and the log stays writable', async () => {
    const work = path.join(root, 'one-cut');
    const size = layout.starts[layout.starts.length - 1]!;
    for (let cut = 0; cut < size; cut++) {
      copyDir(pristine, work);
      const file = path.join(work, path.basename(layout.file));
      fs.truncateSync(file, cut);
      const wholeRecords = layout.starts.filter((s, i) => i > 0 && s <= cut).length;
      const want = entries.slice(0, wholeRecords);
      expectRecovered(await reopen(work), want, `cut at ${cut}`);
      // The torn bytes were removed: an entry appended now survives another restart.
      const log = await FileLog.open(work);
      const extra: Entry = { index: wholeRecords + 1, term: 9, type: 0, data: new Uint8Array([cut & 0xff]) };
      log.append([extra]);
      await log.sync();
      await log.close();
      expectRecovered(await reopen(work), [...want, extra], `append after cut at ${cut}`);
    }
  });

  it('a flipped byte is a dropped tail in the last record and LogCorruptionError anywhere else', async () => {
    const work = path.join(root, 'one-flip');
    const size = layout.starts[layout.starts.length - 1]!;
    const lastStart = layout.starts[layout.starts.length - 2]!;
    for (let at = 0; at < size; at++) {
      copyDir(pristine, work);
      const file = path.join(work, path.basename(layout.file));
      const bytes = fs.readFileSync(file);
      bytes[at] = bytes[at]! ^ 0x5a;
      fs.writeFileSync(file, bytes);
      const outcome = await reopen(work);
      if (at >= lastStart) expectRecovered(outcome, entries.slice(0, -1), `flip at ${at} (last record)`);
      else expectCorruption(outcome, file, recordStartAt(layout.starts, at));
    }
  });
});

describe('recovery at every byte offset, several segments', () => {
  const entries = makeEntries(12);
  let pristine: string;
  let layouts: Layout[];

  beforeAll(async () => {
    pristine = path.join(root, 'multi-pristine');
    const files = await writeLog(pristine, entries, 150);
    expect(files.length).toBeGreaterThanOrEqual(3);
    layouts = layoutOf(files, entries);
  });

  it('cuts: sealed segments refuse, the last segment drops its torn tail', async () => {
    const work = path.join(root, 'multi-cut');
    let before = 0;
    for (let s = 0; s < layouts.length; s++) {
      const { file: original, starts } = layouts[s]!;
      const isLast = s === layouts.length - 1;
      const size = starts[starts.length - 1]!;
      for (let cut = 0; cut < size; cut++) {
        copyDir(pristine, work);
        const file = path.join(work, path.basename(original));
        fs.truncateSync(file, cut);
        const outcome = await reopen(work);
        if (isLast) {
          const whole = starts.filter((x, i) => i > 0 && x <= cut).length;
          expectRecovered(outcome, entries.slice(0, before + whole), `cut last segment at ${cut}`);
        } else {
          expectCorruption(outcome, file, recordStartAt(starts, cut));
        }
      }
      before += layouts[s]!.entries.length;
    }
  });

  it('flips: only the very last record of the last segment may be dropped', async () => {
    const work = path.join(root, 'multi-flip');
    for (let s = 0; s < layouts.length; s++) {
      const { file: original, starts } = layouts[s]!;
      const isLast = s === layouts.length - 1;
      const size = starts[starts.length - 1]!;
      for (let at = 0; at < size; at++) {
        copyDir(pristine, work);
        const file = path.join(work, path.basename(original));
        const bytes = fs.readFileSync(file);
        bytes[at] = bytes[at]! ^ 0x01;
        fs.writeFileSync(file, bytes);
        const outcome = await reopen(work);
        if (isLast && at >= starts[starts.length - 2]!) {
          expectRecovered(outcome, entries.slice(0, -1), `flip at ${at} in last record`);
        } else {
          expectCorruption(outcome, file, recordStartAt(starts, at));
        }
      }
    }
  });

  it('a missing middle segment is refused, naming the segment before the gap', async () => {
    const work = path.join(root, 'multi-missing');
    copyDir(pristine, work);
    const second = path.join(work, path.basename(layouts[1]!.file));
    fs.unlinkSync(second);
    const first = path.join(work, path.basename(layouts[0]!.file));
    expectCorruption(await reopen(work), first, fs.statSync(first).size);
  });
});

describe('zeros written ahead of the last segment (prefill)', () => {
  const entries = makeEntries(8);
  let pristine: string;
  let layout: Layout;
  const ZEROS = 4096;

  beforeAll(async () => {
    pristine = path.join(root, 'zeros-pristine');
    const files = await writeLog(pristine, entries);
    layout = layoutOf(files, entries)[0]!; // a cleanly closed log ends at its last record
  });

  function withZeros(bytes: Buffer): Buffer {
    return Buffer.concat([bytes, Buffer.alloc(ZEROS)]);
  }

  it('a log that was not closed has zeros past its records and reopens with every entry', async () => {
    const dir = path.join(root, 'zeros-live');
    const log = await FileLog.open(dir);
    for (const e of entries) log.append([e]);
    await log.sync();
    const file = log.segmentFiles()[0]!;
    const records = entries.reduce((n, e) => n + recordSize(e), 0);
    const deadline = Date.now() + 5000;
    while (fs.statSync(file).size <= records && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(fs.statSync(file).size).toBeGreaterThan(records);
    const crashed = path.join(root, 'zeros-crashed');
    copyDir(dir, crashed); // the directory as a crash would leave it
    expectRecovered(await reopen(crashed), entries, 'zero tail after a crash');
    expect(fs.statSync(path.join(crashed, path.basename(file))).size).toBe(records);
    await log.close();
    expect(fs.statSync(file).size).toBe(records);
  });

  it('cuts followed by zeros: whole records survive, the torn one goes', async () => {
    const work = path.join(root, 'zeros-cut');
    const size = layout.starts[layout.starts.length - 1]!;
    for (let cut = 0; cut < size; cut++) {
      copyDir(pristine, work);
      const file = path.join(work, path.basename(layout.file));
      const bytes = fs.readFileSync(file);
      fs.writeFileSync(file, withZeros(bytes.subarray(0, cut)));
      // A record whose last bytes are zeros (high bytes of its trailing length) is made whole
      // again by the zeros after the cut: byte for byte the same file.
      const whole = layout.starts.filter((end, i) => {
        if (i === 0) return false;
        let dataEnd = end;
        while (dataEnd > layout.starts[i - 1]! && bytes[dataEnd - 1] === 0) dataEnd--;
        return dataEnd <= cut;
      }).length;
      expectRecovered(await reopen(work), entries.slice(0, whole), `cut at ${cut} then zeros`);
    }
  });

  it('flips followed by zeros: still only the very last record may be dropped', async () => {
    const work = path.join(root, 'zeros-flip');
    const { starts } = layout;
    const size = starts[starts.length - 1]!;
    for (let at = 0; at < size; at++) {
      copyDir(pristine, work);
      const file = path.join(work, path.basename(layout.file));
      const bytes = fs.readFileSync(file);
      bytes[at] = bytes[at]! ^ 0x01;
      fs.writeFileSync(file, withZeros(bytes));
      const outcome = await reopen(work);
      if (at >= starts[starts.length - 2]!) expectRecovered(outcome, entries.slice(0, -1), `flip at ${at} in last record`);
      else expectCorruption(outcome, file, recordStartAt(starts, at));
    }
  });
});
