/**
 * Decode-to-validate for the signals that are not stored yet (logs, metrics): a full protobufjs
 * decode (after OTLP/JSON → protobuf for JSON bodies), so that the server can tell a bad body
 * (400 / INVALID_ARGUMENT) from a good one it cannot store yet (501 / UNIMPLEMENTED).
 */
import { otlpJsonToProtobuf, type OtlpSignal } from './json.js';
import { OtlpDecodeError } from './model.js';
import { otlpTypes } from './proto.js';

export interface ExportSummary {
  resources: number;
  /** Log records, metric data points or spans in the request. */
  items: number;
}

interface Scoped {
  resourceLogs?: { scopeLogs?: { logRecords?: { traceId?: Uint8Array; spanId?: Uint8Array }[] }[] }[];
  resourceMetrics?: { scopeMetrics?: { metrics?: Record<string, { dataPoints?: unknown[] } | undefined>[] }[] }[];
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
}

const METRIC_DATA = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];

function decode(signal: OtlpSignal, bytes: Uint8Array): Scoped {
  const t = otlpTypes();
  const type = signal === 'logs' ? t.ExportLogsServiceRequest : signal === 'metrics' ? t.ExportMetricsServiceRequest : t.ExportTraceServiceRequest;
  try {
    return type.decode(bytes) as unknown as Scoped;
  } catch (err) {
    // protobufjs throws Error / RangeError (and a stack overflow on absurd nesting): all mean "undecodable".
    const message = err instanceof Error ? err.message : String(err);
    throw new OtlpDecodeError(`${type.name}: ${message}`);
  }
}

export function validateExport(signal: OtlpSignal, body: Uint8Array, format: 'protobuf' | 'json'): ExportSummary {
  const bytes = format === 'json' ? otlpJsonToProtobuf(body, signal) : body;
  const msg = decode(signal, bytes);
  let resources = 0;
  let items = 0;
  if (signal === 'logs') {
    (msg.resourceLogs ?? []).forEach((rl, ri) => {
      resources++;
      (rl.scopeLogs ?? []).forEach((sl, si) => {
        (sl.logRecords ?? []).forEach((lr, li) => {
          items++;
          const where = `resource_logs[${ri}].scope_logs[${si}].log_records[${li}]`;
          const traceLen = lr.traceId?.length ?? 0;
          const spanLen = lr.spanId?.length ?? 0;
          if (traceLen !== 0 && traceLen !== 16) throw new OtlpDecodeError(`${where}.trace_id: must be empty or 16 bytes, got ${traceLen}`);
          if (spanLen !== 0 && spanLen !== 8) throw new OtlpDecodeError(`${where}.span_id: must be empty or 8 bytes, got ${spanLen}`);
        });
      });
    });
  } else if (signal === 'metrics') {
    for (const rm of msg.resourceMetrics ?? []) {
      resources++;
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          for (const kind of METRIC_DATA) items += m[kind]?.dataPoints?.length ?? 0;
        }
      }
    }
  } else {
    for (const rs of msg.resourceSpans ?? []) {
      resources++;
      for (const ss of rs.scopeSpans ?? []) items += ss.spans?.length ?? 0;
    }
  }
  return { resources, items };
}
