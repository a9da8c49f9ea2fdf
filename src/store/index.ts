/** The store module's public surface. */
export * from './types.js';
export { shardOf } from './sharding.js';
export { TieredStore, type TieredStoreConfig } from './tiered-store.js';
export { WalCorruptionError } from './wal.js';
