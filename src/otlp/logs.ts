/**
 * ExportLogsServiceRequest validation (protobuf and JSON). Logs are not stored yet: the server
 * validates the body, answers 400 / INVALID_ARGUMENT for a bad one and 501 / UNIMPLEMENTED for a
 * good one. Validation is a full protobufjs decode plus the checks the spec makes of log
 * records (trace_id 0 or 16 bytes, span_id 0 or 8 bytes).
 */
import { validateExport, type ExportSummary } from './validate.js';

export function validateLogsRequest(body: Uint8Array, format: 'protobuf' | 'json'): ExportSummary {
  return validateExport('logs', body, format);
}
