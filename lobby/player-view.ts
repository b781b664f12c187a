/** How a player record looks to others and to the layers it enters. */
import type { MemberInfo } from './model.js';
import type { PlayerContext } from './player-context.js';

export function memberOf(c: PlayerContext): MemberInfo {
  return { id: c.id, name: c.name, hr: c.hr, conn: c.online!.conn };
}

export function publicRecord(c: PlayerContext) {
  const weapon = c.weapon ? { weapon: c.weapon } : {};
  return { id: c.id, name: c.name, hr: c.hr, ...weapon, status: c.status, online: c.online !== null, loc: c.loc, circle: c.circle };
}
