/** `otlp-store search`: search traces through a node's Tempo API and print a table (or JSON). */
import { parseDuration } from '../../server/config.js';
import { intFlag, parseArgs, UsageError } from '../args.js';
import { baseUrl, fetchOrExplain, RequestFailedError, tenantHeaders } from '../client.js';

export const SEARCH_HELP = `Usage: otlp-store search [flags]

Searches traces (GET /api/search) and prints the most recent matches first.

  --url URL            query API of a node (default http://127.0.0.1:3200)
  --tenant NAME        X-Scope-OrgID
  --q TRACEQL          TraceQL, e.g. '{ resource.service.name = "payment" && status = error }'
  --tags TAGS          logfmt tags, e.g. 'service.name=frontend http.route=/api/cart'
  --min-duration D     only traces at least this long (e.g. 100ms)
  --max-duration D     only traces at most this long
  --since D            only traces of the last D (e.g. 15m, 2h); shorthand for --start
  --start TIME         unix seconds, ISO 8601 time, or a duration meaning "that long ago"
  --end TIME           same forms; default now when --start or --since is given
  --limit N            at most N traces (default 20)
  --spss N             spans per span set
  --json               print the API's JSON answer unchanged`;

interface SearchTrace {
  traceID: string;
  rootServiceName?: string;
  rootTraceName?: string;
  startTimeUnixNano?: string;
  durationMs?: number;
  spanSets?: { matched?: number }[];
  spanSet?: { matched?: number };
}

/** Unix seconds from "1700000000", "2024-05-01T10:00:00Z", "now" or a duration ago ("15m"). */
export function parseTime(text: string, flag: string, nowMs = Date.now()): number {
  const s = text.trim();
  if (s === 'now') return Math.floor(nowMs / 1000);
  if (/^\d{9,11}$/.test(s)) return Number(s);
  const ago = /^\d/.test(s) && !s.includes('-') ? parseDuration(s) : undefined;
  if (ago !== undefined) return Math.floor((nowMs - ago) / 1000);
  const date = Date.parse(s);
  if (Number.isNaN(date)) throw new UsageError(`--${flag} "${s}" is not unix seconds, an ISO time or a duration`);
  return Math.floor(date / 1000);
}

export async function searchCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    values: ['url', 'tenant', 'q', 'tags', 'min-duration', 'max-duration', 'since', 'start', 'end', 'limit', 'spss'],
    booleans: ['json'],
    maxPositionals: 0,
  });
  if (args.help) {
    process.stdout.write(SEARCH_HELP + '\n');
    return 0;
  }
  const v = args.values;
  const params = new URLSearchParams();
  if (v['q']) params.set('q', v['q']);
  if (v['tags']) params.set('tags', v['tags']);
  for (const [flag, param] of [['min-duration', 'minDuration'], ['max-duration', 'maxDuration']] as const) {
    if (v[flag] === undefined) continue;
    if (parseDuration(v[flag]!) === undefined) throw new UsageError(`--${flag} "${v[flag]}" is not a duration`);
    params.set(param, v[flag]!);
  }
  const start = v['since'] !== undefined ? parseTime(v['since'], 'since') : v['start'] !== undefined ? parseTime(v['start'], 'start') : undefined;
  if (start !== undefined) {
    params.set('start', String(start));
    params.set('end', String(v['end'] !== undefined ? parseTime(v['end'], 'end') : Math.ceil(Date.now() / 1000) + 1));
  } else if (v['end'] !== undefined) {
    throw new UsageError('--end needs --start or --since');
  }
  params.set('limit', String(intFlag(v, 'limit', 20, 1)));
  if (v['spss'] !== undefined) params.set('spss', String(intFlag(v, 'spss', 3, 1)));
  const url = `${baseUrl(v['url'], 'http://127.0.0.1:3200')}/api/search?${params}`;
  const response = await fetchOrExplain(url, { headers: { accept: 'application/json', ...tenantHeaders(v['tenant']) } });
  const text = await response.text();
  if (!response.ok) throw new RequestFailedError(`search failed (${response.status}): ${text.slice(0, 500)}`);
  if (v['json'] === 'true') {
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    return 0;
  }
  const traces = ((JSON.parse(text) as { traces?: SearchTrace[] }).traces ?? []);
  process.stdout.write(formatSearchTable(traces) + '\n');
  return 0;
}

export function formatSearchTable(traces: SearchTrace[]): string {
  if (traces.length === 0) return 'no traces found';
  const rows = traces.map((t) => {
    const startNs = t.startTimeUnixNano ? BigInt(t.startTimeUnixNano) : 0n;
    const matched = t.spanSets?.reduce((n, s) => n + (s.matched ?? 0), 0) ?? t.spanSet?.matched;
    return [
      t.traceID,
      startNs ? new Date(Number(startNs / 1_000_000n)).toISOString().replace('T', ' ').replace('Z', '') : '',
      t.durationMs !== undefined ? `${t.durationMs}ms` : '<1ms',
      t.rootServiceName ?? '',
      t.rootTraceName ?? '',
      matched !== undefined ? String(matched) : '',
    ];
  });
  const header = ['TRACE ID', 'START (UTC)', 'DURATION', 'ROOT SERVICE', 'ROOT NAME', 'MATCHED'];
  // Plain tag searches carry no span sets: leave the MATCHED column out then.
  if (rows.every((r) => r[5] === '')) {
    header.pop();
    for (const r of rows) r.pop();
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
