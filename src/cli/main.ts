#!/usr/bin/env node
/** `otlp-store` command line: start a node, look at traces, generate data. */
import { ConfigError } from '../server/config.js';
import { CommandFailedError, UsageError } from './args.js';
import { RequestFailedError } from './client.js';

interface Command {
  run: (argv: string[]) => Promise<number>;
}

/** Commands load on demand, so `ready` does not pay for loading the store and gRPC. */
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  start: { load: async () => ({ run: (await import('./commands/start.js')).startCommand }), summary: 'run a node (OTLP in, Tempo and Jaeger APIs out)' },
  trace: { load: async () => ({ run: (await import('./commands/trace.js')).traceCommand }), summary: 'print one trace as a span tree' },
  search: { load: async () => ({ run: (await import('./commands/search.js')).searchCommand }), summary: 'search traces (TraceQL, tags, time, duration)' },
  ready: { load: async () => ({ run: (await import('./commands/ready.js')).readyCommand }), summary: 'exit 0 when a node is ready' },
  generate: { load: async () => ({ run: (await import('./commands/generate.js')).generateCommand }), summary: 'send synthetic traces over OTLP' },
};

export const MAIN_HELP = `Usage: otlp-store <command> [flags]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join('\n')}

Run "otlp-store <command> --help" for the flags of one command.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) return (await COMMANDS[topic].load()).run(['--help']);
    process.stdout.write(MAIN_HELP + '\n');
    return command === undefined ? 2 : 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`otlp-store: unknown command "${command}"\n\n${MAIN_HELP}\n`);
    return 2;
  }
  try {
    return await (await entry.load()).run(rest);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`otlp-store ${command}: ${err.message}\n(see otlp-store ${command} --help)\n`);
      return 2;
    }
    if (err instanceof RequestFailedError || err instanceof CommandFailedError) {
      process.stderr.write(`otlp-store ${command}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`otlp-store ${command}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let stdout drain, then leave even if a library left a handle open.
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`otlp-store: ${String(err)}\n`);
    process.exit(1);
  },
);
