/**
 * Checks for messages arriving at lobby actors (any bus client can send them, so nothing is trusted): each helper
 * returns the typed value or throws `badMessage`, which the runtime turns into a BAD_MESSAGE answer.
 */
import type { ConnRef } from '../actors/runtime/effects.js';
import { badMessage } from '../actors/runtime/kind.js';
import { GatehouseError } from '../common/errors.js';
import { isObject } from '../common/is-object.js';
import { badRequest } from '../node-api/app-error.js';
import { NO_SETTINGS, type CitySettings, type MemberInfo } from './model.js';
import { CAPCOM_ID_RE, parseLayer, type LobbyTree } from './tree.js';

export type Msg = Record<string, unknown>;

export const LIMITS = { name: 16, text: 200, status: 32, goal: 32, seeking: 32, password: 16, query: 32, searchResults: 50 } as const;

export function asMsg(v: unknown): Msg & { type: string } {
  if (!v || typeof v !== 'object' || typeof (v as Msg).type !== 'string') throw badMessage('message must be an object with a string "type"');
  return v as Msg & { type: string };
}

export function str(m: Msg, key: string, max: number, min = 0): string {
  const v = m[key];
  if (typeof v !== 'string' || v.length < min || v.length > max) throw badMessage(`${key} must be a string of ${min}–${max} characters`);
  return v;
}

export function optStr(m: Msg, key: string, max: number): string {
  return m[key] === undefined ? '' : str(m, key, max);
}

export function int(m: Msg, key: string, min: number, max: number): number {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badMessage(`${key} must be an integer in ${min}–${max}`);
  return v;
}

export function bool(m: Msg, key: string, fallback: boolean): boolean {
  const v = m[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw badMessage(`${key} must be true or false`);
  return v;
}

export function capcomId(m: Msg, key: string): string {
  const v = m[key];
  if (typeof v !== 'string' || !CAPCOM_ID_RE.test(v)) throw badMessage(`${key} must be a Capcom ID: 6 characters 0-9 A-Z`);
  return v;
}

export function conn(v: unknown): ConnRef {
  const c = v as Partial<ConnRef> | null;
  if (!c || typeof c !== 'object' || typeof c.gw !== 'string' || typeof c.id !== 'string' || !c.gw || !c.id) {
    throw badMessage('conn must be {gw, id}');
  }
  return { gw: c.gw, id: c.id };
}

export function member(v: unknown): MemberInfo {
  if (!v || typeof v !== 'object') throw badMessage('p must be a member {id, name, hr, conn}');
  const m = v as Msg;
  return { id: capcomId(m, 'id'), name: str(m, 'name', LIMITS.name, 1), hr: int(m, 'hr', 1, 999), conn: conn(m.conn) };
}

export function bytes(m: Msg, key: string, max: number): Uint8Array {
  const v = m[key];
  if (!(v instanceof Uint8Array) || v.length > max) throw badMessage(`${key} must be binary of at most ${max} bytes`);
  return v;
}

export function layer(tree: LobbyTree, m: Msg, key: string): string {
  if (!parseLayer(tree, m[key])) throw badMessage(`${key} must be a layer id of this lobby (e.g. s03, s03-g12, s03-g12-c07)`);
  return m[key] as string;
}

export function settings(v: unknown): CitySettings {
  if (v === undefined) return NO_SETTINGS;
  if (!v || typeof v !== 'object') throw badMessage('settings must be {hrMin, hrMax, goal, seeking}');
  const m = v as Msg;
  const s = {
    hrMin: m.hrMin === undefined ? 1 : int(m, 'hrMin', 1, 999),
    hrMax: m.hrMax === undefined ? 999 : int(m, 'hrMax', 1, 999),
    goal: optStr(m, 'goal', LIMITS.goal),
    seeking: optStr(m, 'seeking', LIMITS.seeking),
  };
  if (s.hrMin > s.hrMax) throw badMessage('settings.hrMin must be ≤ hrMax');
  return s;
}

/** Checks a body with the actors' validators, reporting failures as the client's BAD_REQUEST. */
export function check<T>(raw: unknown, fn: (m: Msg) => T): T {
  const m = raw === undefined || raw === null ? {} : raw;
  if (!isObject(m)) throw badRequest('body must be an object');
  try {
    return fn(m);
  } catch (err) {
    if (err instanceof GatehouseError && err.code !== 'BAD_MESSAGE') throw err;
    throw badRequest((err as Error).message);
  }
}

