/**
 * The chat app's config section (`chat`): the bounds on what clients can grow in a room. The wiring hands it to
 * loadConfig (server/apps.ts), so a file's `"chat": {…}`, GATEHOUSE_CHAT_* variables and `--set chat.maxMembers=200`
 * set it, and a bad value fails at start naming the field.
 */
import { z } from 'zod';
import type { ConfigSection } from '../config/sections.js';

export interface ChatLimits {
  /** Members per room; an enter past it is ROOM_FULL and changes nothing. */
  readonly maxMembers: number;
  /** Names in an enter or members answer (the first ones in join order, with the total `count`). */
  readonly memberListLimit: number;
  /**
   * Lines to everyone in a room go out on the room's gateway channel, not through the room actor
   * (chat/line-channels.ts). Off: every line is an ask to its room, as before.
   */
  readonly lineFanout: boolean;
}

/** What a room actor needs of the section (the rest is the gateways'). */
export type RoomLimits = Pick<ChatLimits, 'maxMembers' | 'memberListLimit'>;

export const chatConfigSchema = z
  .object({
    maxMembers: z.number().int().min(1).max(100_000),
    // A name is at most 32 code points: ≤ 128 bytes of UTF-8, ≤ 386 bytes as Pomelo JSON (an emoji is written as two
    // 6-byte \u escapes). 150 of them stay under a 64 KiB frame in either protocol.
    memberListLimit: z.number().int().min(1).max(150),
    lineFanout: z.boolean(),
  })
  .strict();

export const CHAT_DEFAULTS: ChatLimits = Object.freeze({
  // A room's push carries every member's connection (one effect per message) and its members list is one actor's
  // state: a thousand keeps a message's fan-out bookkeeping small while a lobby-sized room still fits.
  maxMembers: 1000,
  // 100 names of at most 128 bytes: under 13 KiB, far below the 64 KiB frame. A crowded room once made a
  // newcomer's enter FRAME_TOO_LARGE while it was seated anyway.
  memberListLimit: 100,
  // bench chat, rooms of 10: the ask and the room's turn per line were most of our JavaScript per delivery.
  lineFanout: true,
});

export const chatConfig: ConfigSection<ChatLimits> = { key: 'chat', schema: chatConfigSchema, defaults: CHAT_DEFAULTS };
