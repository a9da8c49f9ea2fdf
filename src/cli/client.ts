/** HTTP helpers shared by the CLI commands that talk to a running node. */
import { UsageError } from './args.js';

export class RequestFailedError extends Error {
  override name = 'RequestFailedError';
}

export function baseUrl(raw: string | undefined, fallback: string, flag = 'url'): string {
  const text = raw ?? fallback;
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new UsageError(`--${flag} "${text}" is not a URL`);
  }
  return url.toString().replace(/\/$/, '');
}

export function tenantHeaders(tenant: string | undefined): Record<string, string> {
  return tenant ? { 'x-scope-orgid': tenant } : {};
}

export async function fetchOrExplain(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 30_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new RequestFailedError(`cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
}
