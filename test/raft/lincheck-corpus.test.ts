/**
 * Every history in ../shared/corpus/linearizability (recorded by others against real systems) gets
 * the verdict an independent checker (Porcupine) gave it in expected.json. Each file has a 10 s
 * budget: a timeout answers 'unknown', which fails any file with a published verdict.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHistory, parseHistory, type ModelName, type ParsedHistory } from '../../src/raft/lincheck/index.js';

const CORPUS = resolve(__dirname, '../../../shared/corpus/linearizability');
const PER_FILE_TIMEOUT_MS = 10_000;

type Verdict = boolean | null;
const expected: Record<string, Record<string, Verdict>> = existsSync(join(CORPUS, 'expected.json'))
  ? JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8'))
  : {};

/** Model by folder (the README's layout), falling back to the file's content for new folders. */
function modelFor(folder: string, text: string): ModelName {
  if (folder.includes('jepsen') || /^\s*INFO\s+jepsen\.util\s/m.test(text)) return 'register';
  if (/:key\s/.test(text)) return 'kv';
  if (/:f\s+:add\b/.test(text)) return 'set';
  return 'register';
}

function check(history: ParsedHistory): boolean | 'unknown' {
  const options = { timeoutMs: PER_FILE_TIMEOUT_MS };
  switch (history.name) {
    case 'register':
      return checkHistory(history.model, history.operations, options).linearizable;
    case 'kv':
      return checkHistory(history.model, history.operations, options).linearizable;
    case 'set':
      return checkHistory(history.model, history.operations, options).linearizable;
  }
}

const folders = existsSync(CORPUS)
  ? readdirSync(CORPUS).filter((name) => statSync(join(CORPUS, name)).isDirectory()).sort()
  : [];

describe('linearizability corpus', () => {
  it('is present', () => {
    // Folders named in expected.json but absent on disk (the README's etcd-jepsen/ may be) are skipped;
    // files on disk without an entry only have to terminate.
    const files = folders.flatMap((folder) => readdirSync(join(CORPUS, folder)));
    expect(files.length).toBeGreaterThan(0);
  });

  for (const folder of folders) {
    describe(folder, () => {
      for (const file of readdirSync(join(CORPUS, folder)).sort()) {
        const verdict = expected[folder]?.[file];
        it(`${file} → ${verdict === null ? 'terminates' : String(verdict)}`, () => {
          const text = readFileSync(join(CORPUS, folder, file), 'utf8');
          const history = parseHistory(modelFor(folder, text), text);
          expect(history.operations.length).toBeGreaterThan(0);
          const result = check(history);
          if (verdict === null || verdict === undefined) expect([true, false, 'unknown']).toContain(result);
          else expect(result).toBe(verdict);
        });
      }
    });
  }
});
