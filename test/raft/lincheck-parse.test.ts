import { describe, expect, it } from 'vitest';
import {
  checkHistory,
  HistoryParseError,
  parseHistory,
  parseJepsenRegisterLog,
  parseKvEdn,
  parseRegisterEdn,
  parseSetEdn,
  registerModel,
} from '../../src/raft/lincheck/index.js';

/** Builds a Jepsen register log from `P :TYPE :F VALUE` rows (tab-separated like the real logs). */
const jepsen = (...rows: string[]): string =>
  rows.map((row) => `INFO  jepsen.util - ${row.trim().split(/\s+/).join('\t').replace(/\[(\S+)\t(\S+)\]/, '[$1 $2]')}`).join('\n') + '\n';

function parseError(fn: () => unknown): HistoryParseError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HistoryParseError) return error;
    throw error;
  }
  throw new Error('expected a HistoryParseError');
}

describe('Jepsen register log parser', () => {
  it('pairs invocations and completions, with line numbers as times', () => {
    const ops = parseJepsenRegisterLog(jepsen('0 :invoke :write 3', '1 :invoke :read nil', '0 :ok :write 3', '1 :ok :read 3'));
    expect(ops).toEqual([
      { clientId: 0, input: { op: 'write', value: 3 }, output: {}, call: 1, return: 3, label: 'lines 1-3' },
      { clientId: 1, input: { op: 'read' }, output: { value: 3 }, call: 2, return: 4, label: 'lines 2-4' },
    ]);
  });

  it('reads :fail :cas as a completed, unsuccessful cas', () => {
    const ops = parseJepsenRegisterLog(jepsen('2 :invoke :cas [1 4]', '2 :fail :cas [1 4]', '3 :invoke :cas [nil 2]', '3 :ok :cas [nil 2]'));
    expect(ops.map((op) => [op.input, op.output])).toEqual([
      [{ op: 'cas', from: 1, to: 4 }, { ok: false }],
      [{ op: 'cas', from: null, to: 2 }, { ok: true }],
    ]);
  });

  it('drops timed-out reads and makes :info and unfinished invocations indeterminate', () => {
    const log = jepsen(
      '0 :invoke :read nil', '0 :fail :read :timed-out',
      '1 :invoke :write 4', '1 :info :write :timed-out',
      '5 :invoke :cas [4 0]',
    );
    const ops = parseJepsenRegisterLog(log);
    expect(ops.map((op) => [op.clientId, op.input.op, op.return])).toEqual([
      [1, 'write', Infinity],
      [5, 'cas', Infinity],
    ]);
  });

  it('skips other loggers and blank lines, and rejects anything else with its line number', () => {
    const ok = `INFO  jepsen.core - Worker 0 starting\n\n${jepsen('0 :invoke :read nil', '0 :ok :read nil')}`;
    expect(parseJepsenRegisterLog(ok)).toHaveLength(1);
    expect(parseError(() => parseJepsenRegisterLog(`${jepsen('0 :invoke :read nil')}garbage here\n`)).line).toBe(2);
    expect(parseError(() => parseJepsenRegisterLog(jepsen('0 :invoke :write x'))).line).toBe(1);
    expect(parseError(() => parseJepsenRegisterLog(jepsen('0 :invoke :cas [1]'))).line).toBe(1);
    expect(parseError(() => parseJepsenRegisterLog(jepsen('0 :invoke :incr 1'))).line).toBe(1);
  });

  it('rejects inconsistent event sequences', () => {
    const twice = parseError(() => parseJepsenRegisterLog(jepsen('0 :invoke :read nil', '0 :invoke :read nil')));
    expect(twice.line).toBe(2);
    expect(twice.message).toMatch(/line 2: process 0 invokes again while its :read from line 1 is open/);
    expect(parseError(() => parseJepsenRegisterLog(jepsen('0 :ok :read nil'))).message).toMatch(/never invoked/);
    expect(parseError(() => parseJepsenRegisterLog(jepsen('0 :invoke :read nil', '0 :ok :write 1'))).line).toBe(2);
  });

  it('feeds the checker: a small etcd-like log with lost writes and failed cas', () => {
    const linearizable = jepsen(
      '0 :invoke :write 1', '0 :ok :write 1',
      '1 :invoke :write 2', '1 :info :write :timed-out',
      '2 :invoke :read nil', '2 :ok :read 1',
      '3 :invoke :cas [2 3]', '3 :fail :cas [2 3]',
      '4 :invoke :read nil', '4 :ok :read 2', // the lost write landed late
      '5 :invoke :cas [2 3]', '5 :ok :cas [2 3]',
      '6 :invoke :read nil', '6 :fail :read :timed-out',
      '7 :invoke :read nil', '7 :ok :read 3',
    );
    expect(checkHistory(registerModel, parseJepsenRegisterLog(linearizable)).linearizable).toBe(true);
    const stale = linearizable + jepsen('8 :invoke :read nil', '8 :ok :read 2');
    const result = checkHistory(registerModel, parseJepsenRegisterLog(stale));
    expect(result.linearizable).toBe(false);
    expect(result.explanation).toContain('read() -> 2');
    expect(result.explanation).toContain('lines 17-18');
  });
});

describe('EDN-like history parser', () => {
  it('parses KV lines; absent get values read as ""; :fail drops; missing completion is indeterminate', () => {
    const text = [
      '{:process 0, :type :invoke, :f :append, :key "k", :value "x 0 0 y"}',
      '{:process 1, :type :invoke, :f :get, :key "k", :value nil}',
      '{:process 0, :type :ok, :f :append, :key "k", :value "x 0 0 y"}',
      '{:process 1, :type :ok, :f :get, :key "k", :value nil}',
      '{:process 2, :type :invoke, :f :put, :key "j", :value "v"}',
      '{:process 2, :type :fail, :f :put, :key "j", :value "v"}',
      '; comment',
      '{:process 3, :type :invoke, :f :put, :key "j", :value "w\\"\\u0041"}',
    ].join('\n');
    expect(parseKvEdn(text)).toEqual([
      { clientId: 0, input: { op: 'append', key: 'k', value: 'x 0 0 y' }, output: {}, call: 1, return: 3, label: 'lines 1-3' },
      { clientId: 1, input: { op: 'get', key: 'k' }, output: { value: '' }, call: 2, return: 4, label: 'lines 2-4' },
      { clientId: 3, input: { op: 'put', key: 'j', value: 'w"A' }, output: {}, call: 8, return: Infinity, label: 'line 8, never completed' },
    ]);
  });

  it('parses register and set lines', () => {
    const register = parseRegisterEdn([
      '{:process 0 :type :invoke :f :cas :value [nil 1]}',
      '{:process 0 :type :fail :f :cas :value [nil 1]}',
      '{:process 1 :type :invoke :f :read :value nil}',
      '{:process 1 :type :info :f :read :value nil}',
    ].join('\n'));
    expect(register.map((op) => [op.input, op.output, op.return])).toEqual([
      [{ op: 'cas', from: null, to: 1 }, { ok: false }, 2],
      [{ op: 'read' }, {}, Infinity],
    ]);
    const set = parseSetEdn([
      '{:process 0, :type :invoke, :f :add, :value 1}',
      '{:process 0, :type :ok, :f :add, :value 1}',
      '{:process 1, :type :invoke, :f :read, :value nil}',
      '{:process 1, :type :ok, :f :read, :value #{1 "two"}}',
    ].join('\n'));
    expect(set[1]?.output).toEqual({ values: [1, 'two'] });
  });

  it('reports bad lines with their number', () => {
    const good = '{:process 0, :type :invoke, :f :get, :key "k", :value nil}';
    const cases: [string, RegExp][] = [
      ['{:process 0, :type :invoke, :f :get, :key "k"', /end of line/],
      ['{:process 0, :type :begin, :f :get, :key "k"}', /:type must be/],
      ['{:process 0, :type :invoke, :f :delete, :key "k"}', /unknown :f :delete/],
      ['{:process 0, :type :invoke, :f :put, :key "k", :value 5}', /string :value/],
      ['{:process 0, :type :invoke, :f :get, :value "x"}', /:key must be a string/],
      ['not edn at all', /expected '\{'/],
    ];
    for (const [line, message] of cases) {
      const error = parseError(() => parseKvEdn(`${good.replace(':process 0', ':process 9')}\n\n${line}\n`));
      expect(error.line, line).toBe(3);
      expect(error.message, line).toMatch(message);
    }
  });

  it('picks the format from the content and refuses Jepsen logs for other models', () => {
    const log = jepsen('0 :invoke :read nil', '0 :ok :read nil');
    expect(parseHistory('register', log).operations).toHaveLength(1);
    expect(parseError(() => parseHistory('kv', log)).line).toBe(1);
  });
});
