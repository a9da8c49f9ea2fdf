import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { batchOf, collect, openStore, randomTrace, Rng, spanSet, tempDir } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function walFiles(dir: string): string[] {
  return readdirSync(path.join(dir, 'wal')).filter((n) => n.endsWith('.wal')).sort().map((n) => path.join(dir, 'wal', n));
}

describe('durability', () => {
  it('keeps every acknowledged span after SIGKILL right after acknowledgements', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'crash-child.ts'), t.dir, '77'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    const acked = new Map<string, number>();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const killed = new Promise<void>((resolve, reject) => {
      let buf = '';
      const deadline = setTimeout(() => reject(new Error(`child made too little progress: ${acked.size} traces; ${stderr}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) {
          if (!line.startsWith('ack ')) continue;
          for (const item of line.slice(4).split(',')) {
            const [id, n] = item.split(':');
            acked.set(id!, Number(n));
          }
        }
        // Enough acknowledged to have sealed a few blocks: kill without warning.
        if (acked.size >= 1500 && child.exitCode === null) {
          clearTimeout(deadline);
          child.kill('SIGKILL');
        }
      });
      child.on('exit', () => { clearTimeout(deadline); resolve(); });
    });
    await killed;
    expect(acked.size).toBeGreaterThanOrEqual(1500);
    const store = await openStore(t.dir);
    cleanups.push(() => store.close());
    expect(store.blockCount()).toBeGreaterThan(0); // the crash came after some seals
    let missing = 0;
    for (const [id, n] of acked) {
      const got = spanSet(await store.getTrace('crash-tenant', Buffer.from(id, 'hex')));
      if (got.length !== n) missing++;
    }
    expect(missing).toBe(0);
  });

  it('drops a torn WAL tail and keeps everything before it', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const rng = new Rng(12);
    const traces = Array.from({ length: 10 }, () => randomTrace(rng));
    let store = await openStore(t.dir);
    for (const tr of traces) await store.write('t', batchOf([tr]));
    await store.close();
    const [wal] = walFiles(t.dir).slice(-2).filter((f) => statSync(f).size > 0);
    const sizeBefore = statSync(wal!).size;
    // A record header promising 1000 bytes followed by only a few: a write torn by a crash.
    const torn = Buffer.alloc(20);
    torn.writeUInt32LE(1000, 0);
    appendFileSync(wal!, torn);
    store = await openStore(t.dir);
    cleanups.push(() => store.close());
    expect(statSync(wal!).size).toBe(sizeBefore);
    for (const tr of traces) expect(spanSet(await store.getTrace('t', tr.traceId))).toHaveLength(tr.spans.length);
    // And the store keeps accepting writes after the repair.
    const more = randomTrace(rng);
    await store.write('t', batchOf([more]));
    expect(spanSet(await store.getTrace('t', more.traceId))).toHaveLength(more.spans.length);
  });

  it('drops a last record whose checksum fails (torn inside the payload)', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const rng = new Rng(13);
    const a = randomTrace(rng);
    const b = randomTrace(rng);
    let store = await openStore(t.dir);
    await store.write('t', batchOf([a]));
    await store.write('t', batchOf([b]));
    await store.close();
    const wal = walFiles(t.dir).filter((f) => statSync(f).size > 0).pop()!;
    const buf = readFileSync(wal);
    buf[buf.length - 3] = buf[buf.length - 3]! ^ 0xff; // flip a byte inside the last record
    writeFileSync(wal, buf);
    store = await openStore(t.dir);
    cleanups.push(() => store.close());
    expect(spanSet(await store.getTrace('t', a.traceId))).toHaveLength(a.spans.length);
    expect(await store.getTrace('t', b.traceId)).toBeNull();
    expect(await collect(store.searchTraces({ tenant: 't' }))).toHaveLength(1);
  });
});
