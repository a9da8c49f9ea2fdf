/** `otlp-store generate`: send realistic synthetic traces over OTLP so a new user sees data at once. */
import * as grpc from '@grpc/grpc-js';
import { otlpTypes } from '../../otlp/proto.js';
import { intFlag, numberFlag, parseArgs, UsageError } from '../args.js';
import { baseUrl, fetchOrExplain, RequestFailedError, tenantHeaders } from '../client.js';
import { TraceGenerator } from '../synthetic.js';

export const GENERATE_HELP = `Usage: otlp-store generate [flags]

Sends synthetic traces of a small shop (frontend, checkout, cart, catalog, payment, their databases;
nested client/server spans, HTTP/RPC/DB attributes, events, some errors) to a node over OTLP.

  --otlp-url URL     OTLP endpoint (default http://127.0.0.1:4318 for http, 127.0.0.1:4317 for grpc)
  --protocol P       http (OTLP/HTTP protobuf, default) or grpc
  --count N          traces to send in all (default 100)
  --rate R           traces per second (default 50; 0 = as fast as the node acknowledges)
  --batch N          traces per request (default 10)
  --tenant NAME      X-Scope-OrgID
  --seed N           seed of the shapes and timings (default: random)
  --quiet            no progress bar`;

type Sender = (body: Uint8Array) => Promise<void>;

class RetryLaterError extends Error {
  constructor(message: string, readonly retryAfterMs: number) {
    super(message);
  }
}

function httpSender(url: string, tenant: string | undefined): Sender {
  const endpoint = url.endsWith('/v1/traces') ? url : `${url}/v1/traces`;
  const { ExportTraceServiceResponse } = otlpTypes();
  return async (body) => {
    const response = await fetchOrExplain(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', ...tenantHeaders(tenant) },
      body: Buffer.from(body),
    });
    const answer = new Uint8Array(await response.arrayBuffer());
    if (response.status === 429 || response.status === 503) {
      throw new RetryLaterError(`node busy (${response.status})`, Number(response.headers.get('retry-after') ?? 1) * 1000);
    }
    if (!response.ok) throw new RequestFailedError(`${endpoint} answered ${response.status}: ${Buffer.from(answer).toString('utf8').slice(0, 300)}`);
    const decoded = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(answer), { longs: Number }) as {
      partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
    };
    if (decoded.partialSuccess?.rejectedSpans) throw new RequestFailedError(`node rejected ${decoded.partialSuccess.rejectedSpans} spans: ${decoded.partialSuccess.errorMessage}`);
  };
}

function grpcSender(address: string, tenant: string | undefined): { send: Sender; close: () => void } {
  const target = address.replace(/^[a-z]+:\/\//i, '').replace(/\/$/, '');
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const send: Sender = (body) =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      if (tenant) metadata.set('x-scope-orgid', tenant);
      client.makeUnaryRequest(
        '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(body),
        metadata,
        { deadline: Date.now() + 30_000 },
        (err) => {
          if (!err) return resolve();
          if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.RESOURCE_EXHAUSTED) reject(new RetryLaterError(err.details, 1000));
          else reject(new RequestFailedError(`gRPC export to ${target} failed: ${err.code} ${err.details}`));
        },
      );
    });
  return { send, close: () => client.close() };
}

function progressBar(done: number, total: number, spans: number, startedMs: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const seconds = (Date.now() - startedMs) / 1000;
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} traces, ${spans} spans, ${(spans / Math.max(seconds, 0.001)).toFixed(0)} spans/s `;
}

export async function generateCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    values: ['otlp-url', 'url', 'protocol', 'count', 'rate', 'batch', 'tenant', 'seed'],
    booleans: ['quiet'],
    maxPositionals: 0,
  });
  if (args.help) {
    process.stdout.write(GENERATE_HELP + '\n');
    return 0;
  }
  const v = args.values;
  const protocol = (v['protocol'] ?? 'http').toLowerCase();
  if (protocol !== 'http' && protocol !== 'grpc') throw new UsageError(`--protocol must be http or grpc, got "${protocol}"`);
  const count = intFlag(v, 'count', 100, 1);
  const rate = numberFlag(v, 'rate', 50, 0);
  const batch = intFlag(v, 'batch', 10, 1);
  const seed = v['seed'] !== undefined ? intFlag(v, 'seed', 0) : undefined;
  const tenant = v['tenant'];
  const rawUrl = v['otlp-url'] ?? v['url'];
  let send: Sender;
  let close = (): void => undefined;
  if (protocol === 'http') send = httpSender(baseUrl(rawUrl, 'http://127.0.0.1:4318', 'otlp-url'), tenant);
  else ({ send, close } = grpcSender(rawUrl ?? '127.0.0.1:4317', tenant));

  const generator = new TraceGenerator(seed);
  const showProgress = process.stderr.isTTY && v['quiet'] !== 'true';
  const started = Date.now();
  let sentTraces = 0;
  let sentSpans = 0;
  let lastTraceId = '';
  try {
    while (sentTraces < count) {
      const n = Math.min(batch, count - sentTraces);
      const { body, spans, traceIds } = generator.request(n);
      for (let attempt = 0; ; attempt++) {
        try {
          await send(body);
          break;
        } catch (err) {
          if (!(err instanceof RetryLaterError) || attempt >= 10) throw err;
          await new Promise((r) => setTimeout(r, Math.min(err.retryAfterMs, 10_000)));
        }
      }
      sentTraces += n;
      sentSpans += spans;
      lastTraceId = traceIds[traceIds.length - 1]!;
      if (showProgress) process.stderr.write(progressBar(sentTraces, count, sentSpans, started));
      if (rate > 0) {
        const dueMs = started + (sentTraces / rate) * 1000;
        const wait = dueMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  } finally {
    close();
    if (showProgress) process.stderr.write('\n');
  }
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `sent ${sentTraces} traces (${sentSpans} spans) over ${protocol} in ${seconds.toFixed(1)}s\n` +
      `look at one: otlp-store trace ${lastTraceId}${tenant ? ` --tenant ${tenant}` : ''}\n`,
  );
  return 0;
}
