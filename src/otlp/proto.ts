/**
 * The .proto files under proto/ loaded once, at first use, with protobufjs. Used for everything
 * that is not on the trace hot path (the hand-written scanner in scan.ts is): logs and metrics
 * validation, JSON conversion, responses, tests and benchmarks.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
  'tempopb/tempo.proto',
];

/** proto/ at the repository root, found by walking up from this file (works from src/ and dist/). */
function findProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto', 'opentelemetry');
    if (existsSync(candidate)) return join(dir, 'proto');
    dir = resolve(dir, '..');
  }
  throw new Error('otlp/proto: cannot find the proto/ directory above ' + fileURLToPath(import.meta.url));
}

export interface OtlpTypes {
  root: protobuf.Root;
  TracesData: protobuf.Type;
  ExportTraceServiceRequest: protobuf.Type;
  ExportTraceServiceResponse: protobuf.Type;
  ExportLogsServiceRequest: protobuf.Type;
  ExportLogsServiceResponse: protobuf.Type;
  ExportMetricsServiceRequest: protobuf.Type;
  ExportMetricsServiceResponse: protobuf.Type;
  Span: protobuf.Type;
  Resource: protobuf.Type;
  InstrumentationScope: protobuf.Type;
  AnyValue: protobuf.Type;
  RpcStatus: protobuf.Type;
  RetryInfo: protobuf.Type;
  TempoTraceByIDResponse: protobuf.Type;
  TempoTrace: protobuf.Type;
}

let loaded: OtlpTypes | undefined;

export function otlpTypes(): OtlpTypes {
  if (loaded) return loaded;
  const protoDir = findProtoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string) => join(protoDir, target);
  root.loadSync(PROTO_FILES);
  root.resolveAll();
  const t = (name: string) => root.lookupType(name);
  loaded = {
    root,
    TracesData: t('opentelemetry.proto.trace.v1.TracesData'),
    ExportTraceServiceRequest: t('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    ExportTraceServiceResponse: t('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    ExportLogsServiceRequest: t('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    ExportLogsServiceResponse: t('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
    ExportMetricsServiceRequest: t('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
    ExportMetricsServiceResponse: t('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
    Span: t('opentelemetry.proto.trace.v1.Span'),
    Resource: t('opentelemetry.proto.resource.v1.Resource'),
    InstrumentationScope: t('opentelemetry.proto.common.v1.InstrumentationScope'),
    AnyValue: t('opentelemetry.proto.common.v1.AnyValue'),
    RpcStatus: t('google.rpc.Status'),
    RetryInfo: t('google.rpc.RetryInfo'),
    TempoTraceByIDResponse: t('tempopb.TraceByIDResponse'),
    TempoTrace: t('tempopb.Trace'),
  };
  return loaded;
}

/** Directory holding the .proto files (for @grpc/proto-loader style consumers that need paths). */
export function protoDirectory(): string {
  return findProtoDir();
}
