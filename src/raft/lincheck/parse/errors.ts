/** Bad history input; `line` is 1-based. */
export class HistoryParseError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'HistoryParseError';
  }
}
