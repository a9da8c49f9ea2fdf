/**
 * EDN-like history lines, one event per line:
 *   {:process P, :type :invoke|:ok|:fail|:info, :f F, [:key "K",] :value V}
 * `:fail` means the operation certainly did not happen, except for a register `:cas`, where it is
 * the completed outcome "the swap did not happen". `:info`, and an invoke never completed, are
 * indeterminate. Blank lines and lines starting with `;` are skipped.
 */
import type { KvInput, KvOutput } from '../models/kv.js';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../models/register.js';
import type { SetElement, SetInput, SetOutput } from '../models/set.js';
import type { Operation } from '../types.js';
import { OperationAssembler } from './assembler.js';
import { EdnKeyword, EdnSet, parseEdnMapLine, type EdnValue } from './edn.js';
import { HistoryParseError } from './errors.js';

type EventType = 'invoke' | 'ok' | 'fail' | 'info';

interface EdnEvent {
  line: number;
  process: string;
  type: EventType;
  f: string;
  fields: Map<string, EdnValue>;
}

function* ednEvents(text: string): Generator<EdnEvent> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    const line = i + 1;
    if (raw === '' || raw.startsWith(';')) continue;
    const fields = parseEdnMapLine(raw, line);
    const process = fields.get('process');
    if (typeof process !== 'number' && typeof process !== 'string' && !(process instanceof EdnKeyword)) {
      throw new HistoryParseError(line, ':process must be an integer, string or keyword');
    }
    const type = keywordField(fields, 'type', line);
    if (type !== 'invoke' && type !== 'ok' && type !== 'fail' && type !== 'info') {
      throw new HistoryParseError(line, `:type must be :invoke, :ok, :fail or :info, not :${type}`);
    }
    const processName = process instanceof EdnKeyword ? `:${process.name}` : String(process);
    yield { line, process: processName, type, f: keywordField(fields, 'f', line), fields };
  }
}

function keywordField(fields: Map<string, EdnValue>, name: string, line: number): string {
  const value = fields.get(name);
  if (!(value instanceof EdnKeyword)) throw new HistoryParseError(line, `:${name} must be a keyword`);
  return value.name;
}

function requireOneOf<T extends string>(f: string, allowed: readonly T[], line: number): T {
  if (!(allowed as readonly string[]).includes(f)) {
    throw new HistoryParseError(line, `unknown :f :${f} (expected ${allowed.map((a) => `:${a}`).join(', ')})`);
  }
  return f as T;
}

/** Routes the non-invoke event types into the assembler; `outcome` builds a completed output. */
function settle<Input, Output>(
  assembler: OperationAssembler<Input, Output>,
  event: EdnEvent,
  outcome: () => Output,
  failIsOutcome: boolean,
): void {
  const { line, process, f } = event;
  if (event.type === 'ok' || (event.type === 'fail' && failIsOutcome)) assembler.complete(line, process, f, outcome());
  else if (event.type === 'fail') assembler.drop(line, process, f);
  else assembler.indeterminate(line, process, f);
}

export function parseKvEdn(text: string): Operation<KvInput, KvOutput>[] {
  const assembler = new OperationAssembler<KvInput, KvOutput>({});
  for (const event of ednEvents(text)) {
    const { line } = event;
    const op = requireOneOf(event.f, ['get', 'put', 'append'] as const, line);
    const keyValue = event.fields.get('key');
    if (typeof keyValue !== 'string' && typeof keyValue !== 'number') {
      throw new HistoryParseError(line, ':key must be a string');
    }
    const key = String(keyValue);
    const value = event.fields.get('value');
    if (event.type === 'invoke') {
      if (op === 'get') {
        assembler.invoke(line, event.process, op, { op, key });
      } else {
        if (typeof value !== 'string') throw new HistoryParseError(line, `:${op} needs a string :value`);
        assembler.invoke(line, event.process, op, { op, key, value });
      }
      continue;
    }
    settle(assembler, event, () => {
      if (op !== 'get') return {};
      if (value === null || value === undefined) return { value: '' }; // absent key reads as ""
      if (typeof value !== 'string') throw new HistoryParseError(line, ':get must return a string or nil');
      return { value };
    }, false);
  }
  return assembler.finish();
}

function registerValue(value: EdnValue | undefined, line: number, what: string): RegisterValue | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'string') return value;
  throw new HistoryParseError(line, `${what} must be nil, an integer or a string`);
}

function casArguments(value: EdnValue | undefined, line: number): [RegisterValue | null, RegisterValue] {
  if (!Array.isArray(value) || value.length !== 2) throw new HistoryParseError(line, ':cas needs :value [FROM TO]');
  const to = registerValue(value[1], line, 'cas TO');
  if (to === null) throw new HistoryParseError(line, 'cas TO must not be nil');
  return [registerValue(value[0], line, 'cas FROM'), to];
}

export function parseRegisterEdn(text: string): Operation<RegisterInput, RegisterOutput>[] {
  const assembler = new OperationAssembler<RegisterInput, RegisterOutput>({});
  for (const event of ednEvents(text)) {
    const { line } = event;
    const op = requireOneOf(event.f, ['read', 'write', 'cas'] as const, line);
    const value = event.fields.get('value');
    if (event.type === 'invoke') {
      if (op === 'read') assembler.invoke(line, event.process, op, { op });
      else if (op === 'write') {
        const written = registerValue(value, line, ':write value');
        if (written === null) throw new HistoryParseError(line, ':write needs a value');
        assembler.invoke(line, event.process, op, { op, value: written });
      } else {
        const [from, to] = casArguments(value, line);
        assembler.invoke(line, event.process, op, { op, from, to });
      }
      continue;
    }
    settle(assembler, event, () => {
      if (op === 'read') return { value: registerValue(value, line, ':read result') };
      if (op === 'cas') return { ok: event.type === 'ok' };
      return {};
    }, op === 'cas');
  }
  return assembler.finish();
}

function setElement(value: EdnValue, line: number): SetElement {
  if (typeof value === 'number' || typeof value === 'string') return value;
  throw new HistoryParseError(line, 'set elements must be integers or strings');
}

export function parseSetEdn(text: string): Operation<SetInput, SetOutput>[] {
  const assembler = new OperationAssembler<SetInput, SetOutput>({});
  for (const event of ednEvents(text)) {
    const { line } = event;
    const op = requireOneOf(event.f, ['add', 'read'] as const, line);
    const value = event.fields.get('value');
    if (event.type === 'invoke') {
      if (op === 'read') assembler.invoke(line, event.process, op, { op });
      else {
        if (value === undefined || value === null) throw new HistoryParseError(line, ':add needs a :value');
        assembler.invoke(line, event.process, op, { op, value: setElement(value, line) });
      }
      continue;
    }
    settle(assembler, event, () => {
      if (op === 'add') return {};
      const items = value instanceof EdnSet ? value.items : Array.isArray(value) ? value : undefined;
      if (items === undefined) throw new HistoryParseError(line, ':read must return a set #{...} or vector [...]');
      return { values: items.map((item) => setElement(item, line)) };
    }, false);
  }
  return assembler.finish();
}
