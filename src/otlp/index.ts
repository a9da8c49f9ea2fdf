/** Public API of otlp/: OTLP wire formats (protobuf and JSON), validation, ids. */
export * from './model.js';
export { encodeTracesData, type ResourceGroup, type ScopeGroup } from './assemble.js';
export { scanExportTraceRequest, rejectionSummary, MAX_DEPTH, MAX_REJECT_MESSAGES } from './scan.js';
export { encodeSpanBatch, decodeSpanBatch, splitBatch, groupSpanBatch } from './batch.js';
export * from './ids.js';
export { otlpTypes, protoDirectory, type OtlpTypes } from './proto.js';
