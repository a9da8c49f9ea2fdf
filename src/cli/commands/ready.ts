/** `otlp-store ready`: exit 0 when the node answers /ready with 200, 1 otherwise. */
import { parseArgs } from '../args.js';
import { baseUrl, fetchOrExplain } from '../client.js';

export const READY_HELP = `Usage: otlp-store ready [flags]

Asks a node whether it is ready (GET /ready on the query port). Exit code 0 when ready, 1 when not
or when the node cannot be reached.

  --url URL        query API of a node (default http://127.0.0.1:3200)
  --timeout MS     give up after this long (default 5000)`;

export async function readyCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { values: ['url', 'timeout'], maxPositionals: 0 });
  if (args.help) {
    process.stdout.write(READY_HELP + '\n');
    return 0;
  }
  const url = `${baseUrl(args.values['url'], 'http://127.0.0.1:3200')}/ready`;
  const timeoutMs = Number(args.values['timeout'] ?? 5000);
  try {
    const response = await fetchOrExplain(url, { timeoutMs });
    const text = (await response.text()).trim();
    process.stdout.write(`${response.ok ? 'ready' : `not ready (${response.status}${text ? `: ${text}` : ''})`}\n`);
    return response.ok ? 0 : 1;
  } catch (err) {
    process.stdout.write(`not ready: ${(err as Error).message}\n`);
    return 1;
  }
}
