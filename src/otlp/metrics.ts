/**
 * ExportMetricsServiceRequest validation (protobuf and JSON). Metrics are not stored yet: the
 * server validates the body, answers 400 / INVALID_ARGUMENT for a bad one and 501 /
 * UNIMPLEMENTED for a good one. Validation is a full protobufjs decode.
 */
import { validateExport, type ExportSummary } from './validate.js';

export function validateMetricsRequest(body: Uint8Array, format: 'protobuf' | 'json'): ExportSummary {
  return validateExport('metrics', body, format);
}
