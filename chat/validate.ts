/**
 * Shape checks for chat input, shared by the room actor (a bad bus message → BAD_MESSAGE) and the client routes (a bad
 * request body → BAD_REQUEST), so both boundaries accept exactly the same names, rooms and texts. Each check returns a
 * reason, or undefined when the value is fine.
 */
import type { ConnRef } from '../actors/runtime/effects.js';

export const LIMITS = Object.freeze({ nameChars: 32, roomChars: 64, contentChars: 2000, idChars: 200 });

/** The broadcast target: never a valid user name, so `target` is unambiguous. */
export const EVERYONE = '*';

// Control characters would let a name or room spoof lines in logs and the web page.
const CONTROL = /\p{Cc}/u;

function text(v: unknown, what: string, max: number): string | undefined {
  if (typeof v !== 'string') return `${what} must be a string`;
  if (v.length === 0) return `${what} must not be empty`;
  // Characters are code points. A string never has more of them than UTF-16 units, so they are counted only when the
  // units pass the limit: spreading every chat line into an array to count it was ~3% of a chat line's CPU, twice.
  if (v.length > max && codePoints(v) > max) return `${what} is longer than ${max} characters`;
  return undefined;
}

/** Code points in `s`: UTF-16 units less the second unit of each surrogate pair (a lone surrogate counts as one). */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

export function checkName(v: unknown, what = 'name'): string | undefined {
  const bad = text(v, what, LIMITS.nameChars);
  if (bad) return bad;
  const s = v as string;
  if (CONTROL.test(s)) return `${what} must not contain control characters`;
  if (s.trim() !== s) return `${what} must not start or end with spaces`;
  if (s === EVERYONE) return `${what} must not be "${EVERYONE}" (it means everyone)`;
  return undefined;
}

export function checkRoom(v: unknown, what = 'room'): string | undefined {
  const bad = text(v, what, LIMITS.roomChars);
  if (bad) return bad;
  const s = v as string;
  if (CONTROL.test(s)) return `${what} must not contain control characters`;
  if (s.trim() !== s) return `${what} must not start or end with spaces`;
  return undefined;
}

export function checkContent(v: unknown, what = 'content'): string | undefined {
  return text(v, what, LIMITS.contentChars);
}

export function checkTarget(v: unknown, what = 'target'): string | undefined {
  return v === EVERYONE ? undefined : checkName(v, what);
}

export function checkId(v: unknown, what: string): string | undefined {
  return text(v, what, LIMITS.idChars);
}

export function checkConn(v: unknown, what = 'conn'): string | undefined {
  if (!v || typeof v !== 'object') return `${what} must be an object {gw, id}`;
  const c = v as Partial<ConnRef>;
  return checkId(c.gw, `${what}.gw`) ?? checkId(c.id, `${what}.id`);
}
