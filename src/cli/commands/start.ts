/** `otlp-store start`: load config, run a node until SIGTERM/SIGINT, then shut down gracefully. */
import { CommandFailedError, parseArgs } from '../args.js';
import { CONFIG_KEYS, configHelp, loadConfig } from '../../server/config.js';
import { OtlpStoreNode } from '../../server/node.js';
import { realComponents } from '../../server/components.js';

export const START_HELP = `Usage: otlp-store start [flags]

Starts one node: OTLP/gRPC, OTLP/HTTP, the Tempo-compatible query API (with /metrics, /ready,
/healthz) and the Jaeger-compatible query API. On start it prints one JSON line with
"msg":"listening" and the bound "ports"; SIGTERM or SIGINT shuts it down gracefully.

${configHelp()}`;

export async function startCommand(argv: string[]): Promise<number> {
  const booleans = CONFIG_KEYS.filter((k) => k.kind === 'bool').map((k) => k.name);
  const values = ['config', ...CONFIG_KEYS.filter((k) => k.kind !== 'bool').map((k) => k.name)];
  const args = parseArgs(argv, { values, booleans, maxPositionals: 0 });
  if (args.help) {
    process.stdout.write(START_HELP + '\n');
    return 0;
  }
  const config = loadConfig({ flags: args.values, env: process.env });
  const node = new OtlpStoreNode(config, realComponents());
  let signals = 0;
  const exitCode = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        node.logger.warn({ signal }, 'second signal: exiting without waiting');
        resolve(1);
        return;
      }
      node.logger.info({ signal }, 'shutting down');
      node.stop().then(
        () => {
          node.logger.info('stopped');
          resolve(0);
        },
        (err: unknown) => {
          node.logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  let ports;
  try {
    ports = await node.start();
  } catch (err) {
    node.logger.fatal({ err }, 'start failed');
    await node.stop().catch(() => undefined);
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      throw new CommandFailedError(`cannot listen on ${e.address ?? config.host}:${e.port ?? '?'}: ${e.code} (choose other ports with --grpc-port, --http-port, --query-port, --jaeger-port)`);
    }
    throw err;
  }
  // Always printed, whatever the log level: tests and scripts read the ports from this line.
  process.stdout.write(
    JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, msg: 'listening', ports, dataDir: config.dataDir, host: config.host }) + '\n',
  );
  return exitCode;
}
