/** `otlp-store trace <id>`: fetch one trace from a node's Tempo API and print its span tree. */
import { otlpTypes } from '../../otlp/proto.js';
import { parseArgs, UsageError } from '../args.js';
import { baseUrl, fetchOrExplain, RequestFailedError, tenantHeaders } from '../client.js';
import { flattenTrace, renderTree, type DecodedTracesData } from '../trace-tree.js';

export const TRACE_HELP = `Usage: otlp-store trace <trace-id> [flags]

Fetches a trace (GET /api/v2/traces/<id>, protobuf) and prints its span tree: service, span name,
duration and offset from the trace start, kind and error status.

  --url URL        query API of a node (default http://127.0.0.1:3200)
  --tenant NAME    X-Scope-OrgID (default: the node's single-tenant)
  --json           print the trace as OTLP JSON instead of a tree`;

export async function traceCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ['url', 'tenant'], booleans: ['json'], maxPositionals: 1 });
  if (args.help) {
    process.stdout.write(TRACE_HELP + '\n');
    return 0;
  }
  const id = args.positionals[0]?.trim().toLowerCase();
  if (!id) throw new UsageError('trace needs a trace id (32 hex digits)');
  if (!/^[0-9a-f]{1,32}$/.test(id)) throw new UsageError(`"${id}" is not a hex trace id`);
  const traceIdHex = id.padStart(32, '0');
  const url = `${baseUrl(args.values['url'], 'http://127.0.0.1:3200')}/api/v2/traces/${traceIdHex}`;
  const response = await fetchOrExplain(url, { headers: { accept: 'application/protobuf', ...tenantHeaders(args.values['tenant']) } });
  if (response.status === 404) {
    process.stderr.write(`trace ${traceIdHex} not found\n`);
    return 1;
  }
  if (!response.ok) throw new RequestFailedError(`${url} answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  const { TempoTraceByIDResponse } = otlpTypes();
  const decoded = TempoTraceByIDResponse.toObject(TempoTraceByIDResponse.decode(new Uint8Array(await response.arrayBuffer())), {
    longs: String,
    enums: Number,
    defaults: false,
  }) as { trace?: DecodedTracesData };
  const trace = decoded.trace ?? {};
  if (args.values['json'] === 'true') {
    const { TracesData } = otlpTypes();
    const json = TracesData.toObject(TracesData.fromObject(trace), { longs: String, enums: Number, bytes: String });
    process.stdout.write(JSON.stringify(json, (key, value: unknown) => (['traceId', 'spanId', 'parentSpanId'].includes(key) && typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value), 2) + '\n');
    return 0;
  }
  const spans = flattenTrace(trace);
  if (spans.length === 0) {
    process.stderr.write(`trace ${traceIdHex} not found\n`);
    return 1;
  }
  process.stdout.write(renderTree(traceIdHex, spans) + '\n');
  return 0;
}
