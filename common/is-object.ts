/** A plain object (not null, not an array): what message and body checks expect before they read fields. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
