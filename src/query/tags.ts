/**
 * Legacy tag matching (Tempo `tags=`, Jaeger `tags=`): a condition key=value holds for a span when
 * a span or resource attribute with that key has that value in string form, or when a derived
 * tag (service.name, status, error, span.kind, otel.status_code …) has it.
 */
import { shownServiceName } from './service-name.js';
import type { IndexedAttribute } from '../otlp/model.js';
import type { SpanView } from '../store/types.js';
import { KIND_NAMES, STATUS_NAMES } from './traceql/ast.js';

export function attributeString(value: IndexedAttribute['value']): string {
  return typeof value === 'string' ? value : String(value);
}

function attributeEquals(attrs: IndexedAttribute[], key: string, value: string): boolean {
  for (const a of attrs) if (a.key === key && attributeString(a.value) === value) return true;
  return false;
}

export interface TagMatchOptions {
  /** Tempo's legacy search treats `name` as the span name. */
  nameIsSpanName: boolean;
}

export function spanHasTag(span: SpanView, key: string, value: string, options: TagMatchOptions): boolean {
  if (attributeEquals(span.attributes, key, value) || attributeEquals(span.resourceAttributes, key, value)) return true;
  switch (key) {
    case 'service.name':
      return span.serviceName === value || shownServiceName(span.serviceName) === value;
    case 'name':
      return options.nameIsSpanName && span.name === value;
    case 'status':
    case 'status.code':
      return STATUS_NAMES[span.statusCode] === value.toLowerCase() || String(span.statusCode) === value;
    case 'error':
      return value === 'true' && span.statusCode === 2;
    case 'span.kind':
      return span.kind !== 0 && KIND_NAMES[span.kind] === value;
    case 'otel.status_code':
      return (span.statusCode === 1 && value === 'OK') || (span.statusCode === 2 && value === 'ERROR');
    case 'otel.status_description':
      return span.statusMessage !== '' && span.statusMessage === value;
    default:
      return false;
  }
}
