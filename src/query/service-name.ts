/**
 * The service name the query APIs show and match for a resource without `service.name`.
 * OpenTelemetry's resource semantic conventions name it `unknown_service` (SDKs append
 * `:<process.executable.name>` when they know it; a store only sees the missing attribute).
 */
export const UNKNOWN_SERVICE = 'unknown_service';

export function serviceNameOrUnknown(name: string): string {
  return name === '' ? UNKNOWN_SERVICE : name;
}

/** The name stored for a service the query asked for by its shown name. */
export function storedServiceName(shown: string): string {
  return shown === UNKNOWN_SERVICE ? '' : shown;
}
