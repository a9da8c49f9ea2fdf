/**
 * Jepsen single-register logs, one event per line:
 *   INFO  jepsen.util - P  :TYPE  :F  VALUE
 * with F one of read / write / cas. `:fail :cas` is a completed cas whose swap did not happen;
 * `:fail :read` (a timed-out read) and `:fail :write` constrain nothing and are dropped; `:info`
 * and invocations never completed are indeterminate. Log lines of other Jepsen namespaces and
 * blank lines are skipped; any other line is an error.
 */
import type { RegisterInput, RegisterOutput, RegisterValue } from '../models/register.js';
import type { Operation } from '../types.js';
import { OperationAssembler } from './assembler.js';
import { HistoryParseError } from './errors.js';

const EVENT = /^\s*INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(\w+)(?:\s+(.*?))?\s*$/;
const OTHER_LOG_LINE = /^\s*(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+(?!jepsen\.util\s)\S+\s+-\s/;

function parseScalar(token: string, line: number): RegisterValue | null {
  if (token === 'nil') return null;
  if (/^-?\d+$/.test(token)) return Number(token);
  if (/^"[^"\\]*"$/.test(token)) return token.slice(1, -1);
  throw new HistoryParseError(line, `bad value '${token}'`);
}

function parseCas(token: string, line: number): [RegisterValue | null, RegisterValue] {
  const match = /^\[\s*(\S+)\s+(\S+)\s*\]$/.exec(token);
  if (match === null) throw new HistoryParseError(line, `bad cas value '${token}', expected [FROM TO]`);
  const to = parseScalar(match[2]!, line);
  if (to === null) throw new HistoryParseError(line, 'cas TO must not be nil');
  return [parseScalar(match[1]!, line), to];
}

export function isJepsenLog(text: string): boolean {
  return /^\s*INFO\s+jepsen\.util\s/m.test(text.slice(0, 4096));
}

export function parseJepsenRegisterLog(text: string): Operation<RegisterInput, RegisterOutput>[] {
  const assembler = new OperationAssembler<RegisterInput, RegisterOutput>({});
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = i + 1;
    if (raw.trim() === '') continue;
    const match = EVENT.exec(raw);
    if (match === null) {
      if (OTHER_LOG_LINE.test(raw)) continue;
      throw new HistoryParseError(line, `not a Jepsen log line: ${JSON.stringify(raw.slice(0, 80))}`);
    }
    const process = match[1]!;
    const type = match[2]!;
    const f = match[3]!;
    const value = match[4] ?? '';
    if (f !== 'read' && f !== 'write' && f !== 'cas') {
      throw new HistoryParseError(line, `unknown operation :${f} (expected :read, :write or :cas)`);
    }
    if (type === 'invoke') {
      if (f === 'read') assembler.invoke(line, process, f, { op: 'read' });
      else if (f === 'write') {
        const written = parseScalar(value, line);
        if (written === null) throw new HistoryParseError(line, 'write of nil');
        assembler.invoke(line, process, f, { op: 'write', value: written });
      } else {
        const [from, to] = parseCas(value, line);
        assembler.invoke(line, process, f, { op: 'cas', from, to });
      }
    } else if (type === 'ok') {
      if (f === 'read') assembler.complete(line, process, f, { value: parseScalar(value, line) });
      else if (f === 'write') assembler.complete(line, process, f, {});
      else assembler.complete(line, process, f, { ok: true });
    } else if (type === 'fail') {
      if (f === 'cas') assembler.complete(line, process, f, { ok: false });
      else assembler.drop(line, process, f);
    } else {
      assembler.indeterminate(line, process, f);
    }
  }
  return assembler.finish();
}
