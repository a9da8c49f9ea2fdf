/** The TraceQL subset's syntax tree: one spanset filter `{ … }` of field comparisons. */

export type AttributeScope = 'span' | 'resource' | 'any';

export const INTRINSICS = [
  'name',
  'duration',
  'status',
  'kind',
  'statusMessage',
  'traceDuration',
  'rootName',
  'rootServiceName',
  /** Only its sign is meaningful here: -1 for a root span, 1 for any other (Tempo: the parent's nested-set index). */
  'nestedSetParent',
] as const;
export type Intrinsic = (typeof INTRINSICS)[number];

/** Scoped spellings (`span:name`, `trace:duration`) mapped to the intrinsic they mean. */
export const SCOPED_INTRINSICS: Record<string, Intrinsic> = {
  'span:name': 'name',
  'span:duration': 'duration',
  'span:status': 'status',
  'span:kind': 'kind',
  'span:statusMessage': 'statusMessage',
  'trace:duration': 'traceDuration',
  'trace:rootName': 'rootName',
  'trace:rootService': 'rootServiceName',
};

/** Also accepted unscoped: Tempo's lexer knows `rootService` as an alias. */
export const INTRINSIC_ALIASES: Record<string, Intrinsic> = { rootService: 'rootServiceName' };

export const STATUS_VALUES = { unset: 0, ok: 1, error: 2 } as const;
export const KIND_VALUES = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export const STATUS_NAMES = ['unset', 'ok', 'error'] as const;
export const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;

/** A runtime value, as both literals and span fields evaluate to. */
export type Value =
  | { t: 'string'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'duration'; v: bigint } // nanoseconds
  | { t: 'status'; v: number }
  | { t: 'kind'; v: number }
  | { t: 'nil' };

export type Operand =
  | { type: 'attribute'; scope: AttributeScope; key: string }
  | { type: 'intrinsic'; name: Intrinsic }
  | { type: 'static'; value: Value };

export type ComparisonOp = '=' | '!=' | '>' | '>=' | '<' | '<=' | '=~' | '!~';

export type FieldExpr =
  | { type: 'and'; left: FieldExpr; right: FieldExpr }
  | { type: 'or'; left: FieldExpr; right: FieldExpr }
  | { type: 'compare'; op: ComparisonOp; left: Operand; right: Operand; regex?: RegExp }
  /** A bare operand used as a condition: `{ true }`, `{ span.is_cached }` (true when it is boolean true). */
  | { type: 'truthy'; operand: Operand };

export interface TraceQLQuery {
  source: string;
  /** null for `{}`: every span matches. */
  filter: FieldExpr | null;
}
