/**
 * Errors the query layer raises for bad input. Adapters map them to HTTP 400 (bad request) or
 * 404 (not found); anything else is a 500.
 */
export class QueryError extends Error {
  override name = 'QueryError';
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
  }
}

/** A syntactically valid request for something outside the supported TraceQL subset. */
export class UnsupportedQueryError extends QueryError {
  override name = 'UnsupportedQueryError';
}

export class TraceNotFoundError extends QueryError {
  override name = 'TraceNotFoundError';
  constructor(message = 'trace not found') {
    super(message, 404);
  }
}
