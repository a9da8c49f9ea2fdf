#!/usr/bin/env node
/** `otlp-store` command line: start a node, look at traces, generate data. */
import { ConfigError } from '../server/config.js';
import { UsageError } from './args.js';
import { RequestFailedError } from './client.js';
import { generateCommand, GENERATE_HELP } from './commands/generate.js';
import { readyCommand, READY_HELP } from './commands/ready.js';
import { searchCommand, SEARCH_HELP } from './commands/search.js';
import { startCommand, START_HELP } from './commands/start.js';
import { traceCommand, TRACE_HELP } from './commands/trace.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string; summary: string }> = {
  start: { run: startCommand, help: START_HELP, summary: 'run a node (OTLP in, Tempo and Jaeger APIs out)' },
  trace: { run: traceCommand, help: TRACE_HELP, summary: 'print one trace as a span tree' },
  search: { run: searchCommand, help: SEARCH_HELP, summary: 'search traces (TraceQL, tags, time, duration)' },
  ready: { run: readyCommand, help: READY_HELP, summary: 'exit 0 when a node is ready' },
  generate: { run: generateCommand, help: GENERATE_HELP, summary: 'send synthetic traces over OTLP' },
};

export const MAIN_HELP = `Usage: otlp-store <command> [flags]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join('\n')}

Run "otlp-store <command> --help" for the flags of one command.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    process.stdout.write((topic && COMMANDS[topic] ? COMMANDS[topic].help : MAIN_HELP) + '\n');
    return command === undefined ? 2 : 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`otlp-store: unknown command "${command}"\n\n${MAIN_HELP}\n`);
    return 2;
  }
  try {
    return await entry.run(rest);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`otlp-store ${command}: ${err.message}\n(see otlp-store ${command} --help)\n`);
      return 2;
    }
    if (err instanceof RequestFailedError) {
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
