/**
 * shard = fnv1a32(traceId) mod S. Hashing all 16 bytes (not a prefix) keeps 64-bit Jaeger-style ids,
 * whose high 8 bytes are zero, spread evenly.
 */
export function shardOf(traceId: Uint8Array, shards: number): number {
  if (!(Number.isInteger(shards) && shards > 0)) throw new RangeError(`shards must be a positive integer, got ${shards}`);
  let h = 0x811c9dc5;
  for (let i = 0; i < traceId.length; i++) {
    h ^= traceId[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
