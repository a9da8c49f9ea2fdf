import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES, parseHostPort } from '../../src/raft/kv/framing.js';
import { encodeCommand, KvStateMachine } from '../../src/raft/kv/kv-state.js';

describe('length-prefixed msgpack frames', () => {
  const values = [
    { from: 'n1', messages: [{ type: 'App', entries: [{ index: 3, term: 2, type: 0, data: new Uint8Array([1, 2, 3]) }] }] },
    { id: 7, op: 'put', key: 'k', value: 'x'.repeat(70_000) },
    { id: 8, ok: true },
  ];
  const stream = Buffer.concat(values.map((v) => encodeFrame(v)));

  it('decodes frames however the stream is split', () => {
    for (const step of [1, 3, 4, 5, 1000, 65536, stream.length]) {
      const decoder = new FrameDecoder();
      const out: unknown[] = [];
      for (let off = 0; off < stream.length; off += step) decoder.push(stream.subarray(off, off + step), (v) => out.push(v));
      expect(out.length).toBe(values.length);
      expect((out[1] as { value: string }).value.length).toBe(70_000);
      const data = (out[0] as { messages: { entries: { data: Uint8Array }[] }[] }).messages[0]!.entries[0]!.data;
      expect([...data]).toEqual([1, 2, 3]);
      expect(out[2]).toEqual({ id: 8, ok: true });
    }
  });

  it('refuses a frame length over the bound instead of buffering it', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    expect(() => new FrameDecoder().push(header, () => undefined)).toThrow(/exceeds/);
  });

  it('parses host:port', () => {
    expect(parseHostPort('127.0.0.2:7101')).toEqual({ host: '127.0.0.2', port: 7101 });
    expect(() => parseHostPort('127.0.0.2')).toThrow();
  });
});

describe('KV state machine', () => {
  it('applies put and append and round-trips through a snapshot', () => {
    const kv = new KvStateMachine();
    const entry = (index: number, cmd: Parameters<typeof encodeCommand>[0]) => ({ index, term: 1, type: 0, data: encodeCommand(cmd) });
    kv.apply(entry(1, ['put', 'a', 'x']));
    kv.apply(entry(2, ['append', 'a', 'y']));
    kv.apply(entry(3, ['append', 'b', 'z']));
    expect(kv.get('a')).toBe('xy');
    expect(kv.get('missing')).toBe('');
    const copy = new KvStateMachine();
    copy.restore(kv.snapshot());
    expect(copy.get('a')).toBe('xy');
    expect(copy.get('b')).toBe('z');
    expect(() => kv.apply({ index: 4, term: 1, type: 0, data: encodeCommand(['delete' as 'put', 'a', '']) })).toThrow(/unknown KV op/);
  });
});
