/**
 * The service name the query APIs show and match for a resource without `service.name`.
 * Jaeger's OTLP translator and its v2 storage write `OTLPResourceNoServiceName` for such
 * resources (OpenTelemetry SDKs would have sent `unknown_service:<exe>`; a store only sees the
 * attribute missing), so Jaeger clients already know this name. Tempo search shows the same name.
 */
export const NO_SERVICE_NAME = 'OTLPResourceNoServiceName';

/** The name shown for a stored service name ('' when the resource had none). */
export function shownServiceName(stored: string): string {
  return stored === '' ? NO_SERVICE_NAME : stored;
}
