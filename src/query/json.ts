/**
 * JSON.stringify that writes bigint as an exact JSON number (Jaeger's int64 tag values and
 * timestamps beyond 2^53 would otherwise lose precision or throw).
 */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { __bigint__: v.toString() } : v)).replace(
    /\{"__bigint__":"(-?\d+)"\}/g,
    '$1',
  );
}
