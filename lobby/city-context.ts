/**
 * A city's input, context and events: the types the city machine (city.machine.ts) and its pure helpers
 * (city-view.ts, city-circles.ts) share, kept apart from the machine so the helpers need not import it.
 */
import type { Roster, SocialEvent } from './layer.js';
import type { CitySettings, MemberInfo } from './model.js';
import type { ServerType } from './tree.js';

/** A quest-circle slot as the city lists it; the circle itself is its own actor (circle.machine.ts). */
export interface CircleSlot {
  n: number;
  state: 'forming' | 'departed';
  /** Leader's hunter name, for the list. */
  leader: string;
  goal: string;
  /** Whether joining needs a password. */
  locked: boolean;
}

export interface CityInput {
  id: string;
  serverType: ServerType;
  capacity: number;
  circleSlots: number;
  reservationMs: number;
  refreshMs: number;
}

export interface CityContext extends CityInput {
  roster: Roster;
  /** Join order: the leader's successor is the one who came first. */
  order: string[];
  leader: string | null;
  settings: CitySettings;
  reservedBy: MemberInfo | null;
  circles: Record<string, CircleSlot>;
  /** The slot being created while the city waits for the circle's answer (inside one turn). */
  creating: { slot: number; p: MemberInfo; locked: boolean; goal: string } | null;
}

export type CityEvent =
  | { type: 'reserve'; p: MemberInfo }
  | { type: 'unreserve'; id: string }
  | { type: 'open'; p: MemberInfo; settings: CitySettings }
  | { type: 'enter'; p: MemberInfo; here: boolean }
  | { type: 'leave'; id: string }
  | { type: 'settings'; from: string; settings: CitySettings }
  | { type: 'circleOpen'; p: MemberInfo; password: string; goal: string }
  | { type: 'circleCreated'; ok: boolean; body?: unknown; error?: { code: string; message: string } }
  | { type: 'circleReport'; slot: number; n: number; state: CircleSlot['state']; leader: string; closed: boolean }
  | { type: 'info' }
  | { type: 'poke' }
  | SocialEvent;
