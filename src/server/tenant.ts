/**
 * Tenant ids, with the rules Cortex/Mimir/Tempo apply to X-Scope-OrgID: 1–150 characters from
 * [A-Za-z0-9!-_.*'()], and not "." or "..". Anything else is refused (400 / INVALID_ARGUMENT)
 * rather than mapped, so two different headers never land in the same tenant.
 */
export const DEFAULT_TENANT = 'single-tenant';
export const TENANT_HEADER = 'x-scope-orgid';
const MAX_TENANT_LENGTH = 150;
const TENANT_CHARS = /^[A-Za-z0-9!\-_.*'()]+$/;

export class InvalidTenantError extends Error {
  override name = 'InvalidTenantError';
  /** Fastify error handlers (query/'s included) answer 4xx errors with this status. */
  readonly statusCode = 400;
}

/** The tenant of a request from its header value(s); throws InvalidTenantError naming the problem. */
export function parseTenant(header: string | string[] | undefined): string {
  if (header === undefined) return DEFAULT_TENANT;
  if (Array.isArray(header)) {
    if (header.length === 0) return DEFAULT_TENANT;
    if (header.length > 1) throw new InvalidTenantError('X-Scope-OrgID given more than once');
    header = header[0]!;
  }
  const tenant = header.trim();
  if (tenant === '') throw new InvalidTenantError('X-Scope-OrgID is empty');
  if (tenant.length > MAX_TENANT_LENGTH) throw new InvalidTenantError(`X-Scope-OrgID is longer than ${MAX_TENANT_LENGTH} characters`);
  if (tenant === '.' || tenant === '..') throw new InvalidTenantError(`X-Scope-OrgID must not be "${tenant}"`);
  if (!TENANT_CHARS.test(tenant)) {
    throw new InvalidTenantError(`X-Scope-OrgID "${tenant.slice(0, 40)}" holds a character outside [A-Za-z0-9!-_.*'()]`);
  }
  return tenant;
}
