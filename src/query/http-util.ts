/** Small helpers shared by the Tempo and Jaeger HTTP adapters. */
import type { FastifyRequest } from 'fastify';
import { QueryError } from './errors.js';

export type QueryParams = Record<string, string | string[] | undefined>;

export function queryParams(request: FastifyRequest): QueryParams {
  return (request.query ?? {}) as QueryParams;
}

/** The first value of a query parameter ('' counts as absent). */
export function param(q: QueryParams, name: string): string | undefined {
  const v = q[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined || first === '' ? undefined : first;
}

export function allParams(q: QueryParams, name: string): string[] {
  const v = q[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x) => x !== '');
}

/** A non-negative decimal integer parameter. */
export function intParam(q: QueryParams, name: string): number | undefined {
  const text = param(q, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new QueryError(`invalid ${name}: "${text}" is not a non-negative integer`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new QueryError(`invalid ${name}: "${text}" is too large`);
  return n;
}

/** A decimal integer parameter that may be larger than 2^53 (µs / ns timestamps). */
export function bigintParam(q: QueryParams, name: string): bigint | undefined {
  const text = param(q, name);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new QueryError(`invalid ${name}: "${text}" is not an integer`);
  return BigInt(text);
}

export function wantsProtobuf(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/protobuf') || accept.includes('application/x-protobuf');
}

export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}
