/**
 * msgpack for the store's own metadata (block metas in LevelDB, snapshot headers). Span data
 * never goes through here: WAL and block records are encoded TracesData.
 */
import { Packr } from 'msgpackr';

// bigint stays bigint (block time ranges), numbers stay numbers: a type-preserving round trip.
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

export function packValue(v: unknown): Uint8Array {
  return packr.pack(v);
}

export function unpackValue<T>(b: Uint8Array): T {
  return packr.unpack(b) as T;
}
