/**
 * Wire format. Every UDP packet and every stream message starts with a protocol version byte and a
 * frame kind; message bodies are msgpack arrays whose first element is the message type. Decoders
 * read the fields they know and ignore trailing ones, so a newer node (that appends fields or adds
 * message types) can still talk to an older one. Anything malformed throws DecodeError, which the
 * core counts and drops.
 */
import { Packr, Unpackr } from 'msgpackr';

export const PROTOCOL_VERSION = 1;
/** Oldest peer protocol version we can read. */
export const MIN_PROTOCOL_VERSION = 1;

const FRAME_COMPOUND = 1;
const FRAME_STREAM = 2;
export const COMPOUND_HEADER_BYTES = 3; // version, kind, count
export const COMPOUND_ENTRY_OVERHEAD = 2; // u16 length
const MAX_COMPOUND_MESSAGES = 255;

export const enum MsgType {
  Ping = 1,
  IndirectPing = 2,
  Ack = 3,
  Nack = 4,
  Suspect = 5,
  Alive = 6,
  Dead = 7,
  PushPull = 8,
}

export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';
const STATUS_CODES: MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];

/** What a member says about itself; versioned by the member's incarnation number. */
export interface NodeMeta {
  /** Service name → "host:port" (e.g. { peer: "10.0.0.2:7947", otlpGrpc: "10.0.0.2:4317" }). */
  services: Record<string, string>;
  zone: string;
  version: string;
  tags: Record<string, string>;
}

export const EMPTY_META: NodeMeta = Object.freeze({ services: {}, zone: '', version: '', tags: {} }) as NodeMeta;

export interface PingMsg { type: MsgType.Ping; seq: number; target: string; source: string; sourceAddr: string }
export interface IndirectPingMsg {
  type: MsgType.IndirectPing; seq: number; target: string; targetAddr: string; wantNack: boolean; source: string; sourceAddr: string;
}
export interface AckMsg { type: MsgType.Ack; seq: number }
export interface NackMsg { type: MsgType.Nack; seq: number }
export interface SuspectMsg { type: MsgType.Suspect; incarnation: number; node: string; from: string }
export interface AliveMsg { type: MsgType.Alive; incarnation: number; node: string; addr: string; meta: NodeMeta }
/** from === node means the member left gracefully. */
export interface DeadMsg { type: MsgType.Dead; incarnation: number; node: string; from: string }
export interface PushState { name: string; addr: string; incarnation: number; status: MemberStatus; meta: NodeMeta }
export interface PushPullMsg { type: MsgType.PushPull; join: boolean; source: string; states: PushState[] }

export type PacketMsg = PingMsg | IndirectPingMsg | AckMsg | NackMsg | SuspectMsg | AliveMsg | DeadMsg;
export type StreamMsg = PingMsg | AckMsg | PushPullMsg;

export class DecodeError extends Error {}

const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

function metaToWire(m: NodeMeta): unknown[] {
  return [m.services, m.zone, m.version, m.tags];
}

export function encodeMessage(msg: PacketMsg | StreamMsg): Uint8Array {
  switch (msg.type) {
    case MsgType.Ping: return packr.pack([msg.type, msg.seq, msg.target, msg.source, msg.sourceAddr]);
    case MsgType.IndirectPing:
      return packr.pack([msg.type, msg.seq, msg.target, msg.targetAddr, msg.wantNack, msg.source, msg.sourceAddr]);
    case MsgType.Ack: return packr.pack([msg.type, msg.seq]);
    case MsgType.Nack: return packr.pack([msg.type, msg.seq]);
    case MsgType.Suspect: return packr.pack([msg.type, msg.incarnation, msg.node, msg.from]);
    case MsgType.Alive: return packr.pack([msg.type, msg.incarnation, msg.node, msg.addr, metaToWire(msg.meta)]);
    case MsgType.Dead: return packr.pack([msg.type, msg.incarnation, msg.node, msg.from]);
    case MsgType.PushPull:
      return packr.pack([msg.type, msg.join, msg.source,
        msg.states.map((s) => [s.name, s.addr, s.incarnation, STATUS_CODES.indexOf(s.status), metaToWire(s.meta)])]);
  }
}

/** Frames already-encoded messages into one UDP packet. Caller keeps it under the size bound. */
export function frameCompound(messages: Uint8Array[]): Uint8Array {
  if (messages.length === 0 || messages.length > MAX_COMPOUND_MESSAGES) {
    throw new Error(`compound packet needs 1..${MAX_COMPOUND_MESSAGES} messages, got ${messages.length}`);
  }
  let size = COMPOUND_HEADER_BYTES;
  for (const m of messages) {
    if (m.length > 0xffff) throw new Error('message too large for a compound entry');
    size += COMPOUND_ENTRY_OVERHEAD + m.length;
  }
  const out = new Uint8Array(size);
  out[0] = PROTOCOL_VERSION;
  out[1] = FRAME_COMPOUND;
  out[2] = messages.length;
  let at = COMPOUND_HEADER_BYTES;
  for (const m of messages) {
    out[at] = m.length >>> 8;
    out[at + 1] = m.length & 0xff;
    out.set(m, at + 2);
    at += 2 + m.length;
  }
  return out;
}

export function frameStream(msg: StreamMsg): Uint8Array {
  const body = encodeMessage(msg);
  const out = new Uint8Array(2 + body.length);
  out[0] = PROTOCOL_VERSION;
  out[1] = FRAME_STREAM;
  out.set(body, 2);
  return out;
}

export interface DecodedPacket {
  messages: PacketMsg[];
  /** Entries of a type this version does not know (from a newer peer); skipped. */
  unknown: number;
}

function checkHeader(buf: Uint8Array, kind: number): void {
  if (buf.length < 2) throw new DecodeError('packet too short');
  const version = buf[0]!;
  if (version < MIN_PROTOCOL_VERSION) throw new DecodeError(`unsupported protocol version ${version}`);
  if (buf[1] !== kind) throw new DecodeError(`unexpected frame kind ${buf[1]}`);
}

export function decodePacket(buf: Uint8Array): DecodedPacket {
  checkHeader(buf, FRAME_COMPOUND);
  if (buf.length < COMPOUND_HEADER_BYTES) throw new DecodeError('packet too short');
  const count = buf[2]!;
  if (count === 0) throw new DecodeError('empty compound packet');
  const messages: PacketMsg[] = [];
  let unknown = 0;
  let at = COMPOUND_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + 2 > buf.length) throw new DecodeError('truncated compound entry header');
    const len = (buf[at]! << 8) | buf[at + 1]!;
    at += 2;
    if (len === 0 || at + len > buf.length) throw new DecodeError('truncated compound entry');
    const msg = decodeBody(buf.subarray(at, at + len));
    at += len;
    if (msg === null) unknown++;
    else if (msg.type === MsgType.PushPull) throw new DecodeError('push/pull is not allowed in a packet');
    else messages.push(msg);
  }
  if (at !== buf.length) throw new DecodeError('trailing bytes after compound packet');
  return { messages, unknown };
}

export function decodeStream(buf: Uint8Array): StreamMsg {
  checkHeader(buf, FRAME_STREAM);
  const msg = decodeBody(buf.subarray(2));
  if (msg === null) throw new DecodeError('unknown stream message type');
  if (msg.type !== MsgType.Ping && msg.type !== MsgType.Ack && msg.type !== MsgType.PushPull) {
    throw new DecodeError(`message type ${msg.type} is not allowed on a stream`);
  }
  return msg;
}

// ---- validation helpers: a peer's bytes are untrusted ----

function str(v: unknown, what: string, max = 256): string {
  if (typeof v !== 'string' || v.length > max) throw new DecodeError(`bad ${what}`);
  return v;
}
function nonEmpty(v: unknown, what: string, max = 256): string {
  const s = str(v, what, max);
  if (s.length === 0) throw new DecodeError(`empty ${what}`);
  return s;
}
function uint(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new DecodeError(`bad ${what}`);
  return v;
}
function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new DecodeError(`bad ${what}`);
  return v;
}
function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) throw new DecodeError(`bad ${what}`);
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (++n > 64) throw new DecodeError(`too many entries in ${what}`);
    out[str(k, `${what} key`, 128)] = str(val, `${what} value`, 512);
  }
  return out;
}
function meta(v: unknown): NodeMeta {
  if (!Array.isArray(v) || v.length < 4) throw new DecodeError('bad meta');
  return { services: stringMap(v[0], 'meta.services'), zone: str(v[1], 'meta.zone', 128),
    version: str(v[2], 'meta.version', 128), tags: stringMap(v[3], 'meta.tags') };
}
function fields(arr: unknown[], n: number, what: string): void {
  if (arr.length < n) throw new DecodeError(`${what}: expected ${n} fields, got ${arr.length}`);
}

/** Returns null for a message type this version does not know. */
function decodeBody(bytes: Uint8Array): PacketMsg | PushPullMsg | null {
  let v: unknown;
  try {
    v = unpackr.unpack(bytes);
  } catch (err) {
    throw new DecodeError(`msgpack: ${(err as Error).message}`);
  }
  if (!Array.isArray(v) || v.length === 0) throw new DecodeError('message is not a non-empty array');
  const type = v[0];
  if (typeof type !== 'number' || !Number.isInteger(type)) throw new DecodeError('bad message type');
  switch (type) {
    case MsgType.Ping:
      fields(v, 5, 'ping');
      return { type, seq: uint(v[1], 'seq'), target: nonEmpty(v[2], 'target'), source: nonEmpty(v[3], 'source'),
        sourceAddr: nonEmpty(v[4], 'sourceAddr') };
    case MsgType.IndirectPing:
      fields(v, 7, 'indirect ping');
      return { type, seq: uint(v[1], 'seq'), target: nonEmpty(v[2], 'target'), targetAddr: nonEmpty(v[3], 'targetAddr'),
        wantNack: bool(v[4], 'wantNack'), source: nonEmpty(v[5], 'source'), sourceAddr: nonEmpty(v[6], 'sourceAddr') };
    case MsgType.Ack:
    case MsgType.Nack:
      fields(v, 2, 'ack');
      return { type, seq: uint(v[1], 'seq') };
    case MsgType.Suspect:
    case MsgType.Dead:
      fields(v, 4, 'suspect/dead');
      return { type, incarnation: uint(v[1], 'incarnation'), node: nonEmpty(v[2], 'node'), from: nonEmpty(v[3], 'from') };
    case MsgType.Alive:
      fields(v, 5, 'alive');
      return { type, incarnation: uint(v[1], 'incarnation'), node: nonEmpty(v[2], 'node'), addr: nonEmpty(v[3], 'addr'),
        meta: meta(v[4]) };
    case MsgType.PushPull: {
      fields(v, 4, 'push/pull');
      const raw = v[3];
      if (!Array.isArray(raw) || raw.length > 100_000) throw new DecodeError('bad push/pull states');
      const states: PushState[] = raw.map((s: unknown) => {
        if (!Array.isArray(s)) throw new DecodeError('bad push/pull state');
        fields(s, 5, 'push state');
        const status = STATUS_CODES[uint(s[3], 'status')];
        if (status === undefined) throw new DecodeError('bad status');
        return { name: nonEmpty(s[0], 'name'), addr: nonEmpty(s[1], 'addr'), incarnation: uint(s[2], 'incarnation'), status,
          meta: meta(s[4]) };
      });
      return { type, join: bool(v[1], 'join'), source: nonEmpty(v[2], 'source'), states };
    }
    default:
      if (type < 1) throw new DecodeError('bad message type');
      return null;
  }
}

export function encodedMetaSize(m: NodeMeta): number {
  return packr.pack(metaToWire(m)).length;
}
