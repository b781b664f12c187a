/**
 * Copy-on-send for in-process delivery (embedded mode: ActorClient.tell over the in-memory bus hands the receiver the
 * envelope object instead of MessagePack bytes). The receiver must get what it would have decoded, and nothing the
 * sender can still change: so a message is deep-copied when it is plain data — null, booleans, numbers, strings,
 * undefined, arrays and plain objects (prototype Object or null) of these — which is exactly what MessagePack carries
 * unchanged (bus/codec.ts: maps as objects, no records). Anything else (bytes, which
 * decode as Buffer; Date, Map, Set, class instances, bigint, functions, symbols; a `__proto__` key or a string with a
 * lone surrogate, which the codec changes; deeper than MAX_DEPTH, or a cycle) is not copied: `plainCopy` returns
 * NOT_PLAIN and the sender encodes as before, so the codec decides what such a message becomes.
 * test/unit/actors/copy-on-send.test.ts checks copy == decode(encode(x)) for every plain case.
 */
export const NOT_PLAIN: unique symbol = Symbol('not plain data');
const MAX_DEPTH = 32;

export function plainCopy(v: unknown, depth = 0): unknown {
  if (v === null || typeof v !== 'object') {
    switch (typeof v) {
      case 'number':
        return v === 0 ? 0 : v; // MessagePack has no -0
      case 'string':
        // A lone surrogate has no UTF-8 form: the codec would turn it into U+FFFD.
        return (v as string & { isWellFormed(): boolean }).isWellFormed() ? v : NOT_PLAIN;
      case 'boolean':
      case 'undefined':
        return v;
      default:
        return v === null ? null : NOT_PLAIN;
    }
  }
  if (depth > MAX_DEPTH) return NOT_PLAIN;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = plainCopy(v[i], depth + 1);
      if (x === NOT_PLAIN) return NOT_PLAIN;
      out[i] = x;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const k in v) {
      if (k === '__proto__' || !(k as string & { isWellFormed(): boolean }).isWellFormed()) return NOT_PLAIN; // the codec renames or mangles these
      const x = plainCopy((v as Record<string, unknown>)[k], depth + 1);
      if (x === NOT_PLAIN) return NOT_PLAIN;
      out[k] = x;
    }
    return out;
  }
  return NOT_PLAIN;
}
