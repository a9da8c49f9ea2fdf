/**
 * OTLP/gRPC receiver (:4317): the trace, logs and metrics collector services with pass-through
 * Buffer (de)serializers, so message bytes go straight to otlp/'s scanner without a protobufjs
 * decode. grpc-js itself inflates gzip/deflate messages and enforces the decompressed size limit
 * (RESOURCE_EXHAUSTED).
 */
import * as grpc from '@grpc/grpc-js';
import { classifyFailure, parseWriteConsistency, type ReceiverDeps } from './ingest.js';
import { NodeBusyError } from './limits.js';
import type { Signal } from './metrics.js';
import { parseTenant } from './tenant.js';

const SERVICES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};

const passThrough = (b: Buffer): Buffer => b;

function serviceDefinition(signal: Signal): grpc.ServiceDefinition {
  return {
    Export: {
      path: `/${SERVICES[signal]}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
      originalName: 'export',
    },
  };
}

function metadataValue(metadata: grpc.Metadata, key: string): string | string[] | undefined {
  const values = metadata.get(key).map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

export function buildGrpcServer(deps: ReceiverDeps): grpc.Server {
  const { config, pipeline, limiter, metrics } = deps;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.maxBodyBytes,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
    // Idle clients may keep their connections; pings without calls are fine.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });

  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
      const started = process.hrtime.bigint();
      let heldRequest = false;
      let heldBytes = 0;
      const finish = (code: number): void => {
        if (heldBytes) limiter.releaseBytes(heldBytes);
        if (heldRequest) limiter.releaseRequest();
        heldBytes = 0;
        heldRequest = false;
        metrics.ingestDuration.observe({ transport: 'grpc', signal, code: String(code) }, Number(process.hrtime.bigint() - started) / 1e9);
      };
      const work = async (): Promise<Buffer> => {
        if (!deps.accepting()) throw new NodeBusyError('node is shutting down', 1000, true);
        limiter.acquireRequest();
        heldRequest = true;
        const tenant = parseTenant(metadataValue(call.metadata, 'x-scope-orgid'));
        parseWriteConsistency(metadataValue(call.metadata, 'x-consistency'), config.writeConsistency);
        const body = call.request;
        limiter.acquireBytes(body.length);
        heldBytes = body.length;
        if (signal !== 'traces') pipeline.otherSignal(signal, body, 'protobuf');
        const rejected = await pipeline.traces('grpc', tenant, body, 'protobuf');
        const response = pipeline.codec.encodeExportResponse(signal, 'protobuf', rejected);
        if (typeof response === 'string') throw new Error('invariant: protobuf response encoded as a string');
        return Buffer.from(response.buffer, response.byteOffset, response.byteLength);
      };
      work().then(
        (response) => {
          finish(grpc.status.OK);
          callback(null, response);
        },
        (err: unknown) => {
          const failure = classifyFailure(err);
          metrics.requestsRejected.inc({ transport: 'grpc', signal, reason: failure.reason });
          if (failure.reason === 'internal') deps.logger.error({ err, signal }, 'ingest failed');
          const trailer = new grpc.Metadata();
          // google.rpc.Status with RetryInfo in its details tells OTLP exporters when to retry.
          const status = pipeline.codec.encodeStatus('protobuf', failure.grpc, failure.message, failure.retryAfterMs);
          if (typeof status !== 'string') trailer.set('grpc-status-details-bin', Buffer.from(status.buffer, status.byteOffset, status.byteLength));
          finish(failure.grpc);
          callback({ code: failure.grpc, details: failure.message, metadata: trailer });
        },
      );
    };
    server.addService(serviceDefinition(signal), { Export: handler });
  }
  return server;
}

export function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
}

/** Stops accepting calls, lets in-flight ones finish; forces the rest after timeoutMs. */
export function shutdownGrpc(server: grpc.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
