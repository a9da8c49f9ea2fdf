/** Public surface of the query module. */
export { tempoApi, type TempoApiOptions } from './tempo.js';
export { jaegerApi, type JaegerApiOptions } from './jaeger.js';
export { parseTraceQL } from './traceql/parser.js';
export { matchingSpans, spanMatches } from './traceql/evaluate.js';
export type { TraceQLQuery, FieldExpr } from './traceql/ast.js';
export { candidateQuery, requiredTerms, parseLogfmt, type SearchPlan } from './planner.js';
export { runTempoSearch, collectMatches, type SearchOutcome } from './search.js';
export { parseTempoSearch, searchResponseJson } from './tempo-search.js';
export { QueryError, UnsupportedQueryError, TraceNotFoundError } from './errors.js';
export { parseTraceIdHex } from './ids.js';
