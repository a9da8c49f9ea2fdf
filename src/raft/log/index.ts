export { FileLog, segmentName, DEFAULT_SEGMENT_BYTES, type FileLogOptions } from './file-log.js';
export { crc32c, crc32cUpdate } from './crc32c.js';
export { RECORD_OVERHEAD, ENTRY_HEADER, COMMIT_PAYLOAD } from './record.js';
export { HARD_STATE_FILE, SNAPSHOT_FILE } from './files.js';
