/**
 * A hunter's equipment as typed fields beside the free 256-byte profile: the weapon type, from the game's fixed list
 * (Monster Hunter 3's weapon classes), so search results and layer views can show it without parsing the profile.
 */
import { badMessage } from '../actors/runtime/kind.js';

export const WEAPON_TYPES = [
  'great-sword',
  'long-sword',
  'sword-and-shield',
  'hammer',
  'lance',
  'switch-axe',
  'light-bowgun',
  'medium-bowgun',
  'heavy-bowgun',
] as const;
export type WeaponType = (typeof WEAPON_TYPES)[number];

const WEAPONS: ReadonlySet<string> = new Set(WEAPON_TYPES);

/** `m[key]` when it is one of WEAPON_TYPES; undefined when absent; anything else is refused, naming the field. */
export function optWeapon(m: Record<string, unknown>, key: string): WeaponType | undefined {
  const v = m[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !WEAPONS.has(v)) throw badMessage(`${key} must be one of ${WEAPON_TYPES.join(', ')}`);
  return v as WeaponType;
}
