/**
 * Length-prefixed msgpack frames over a byte stream: [u32 BE length][msgpack body].
 * Used by the peer transport (batches of Raft messages) and the client protocol.
 */
import { Packr } from 'msgpackr';

/** Plain msgpack (no record extension) so every frame decodes on its own. */
export const packr = new Packr({ useRecords: false, moreTypes: false });

/** Large enough for a snapshot of a big state in one message; bounds what a broken peer can make us buffer. */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

export function encodeFrame(value: unknown): Buffer {
  const body = packr.pack(value);
  if (body.length > MAX_FRAME_BYTES) throw new Error(`frame of ${body.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Feeds stream chunks, hands out decoded frame bodies. Throws on an oversized length (a broken peer). */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer, onFrame: (value: unknown) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.peekHeader();
      if (head > MAX_FRAME_BYTES) throw new Error(`incoming frame of ${head} bytes exceeds ${MAX_FRAME_BYTES}`);
      if (this.buffered < 4 + head) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      const body = all.subarray(4, 4 + head);
      const rest = all.subarray(4 + head);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      onFrame(packr.unpack(body));
    }
  }

  private peekHeader(): number {
    // Merge once so the header is in the first chunk (keeps tiny chunks from costing O(n²)).
    if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!.readUInt32BE(0);
  }
}

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(text: string): HostPort {
  const at = text.lastIndexOf(':');
  const port = Number(text.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad host:port "${text}"`);
  return { host: text.slice(0, at), port };
}
