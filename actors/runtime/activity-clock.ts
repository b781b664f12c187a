/**
 * When a cell was last active, for the idle sweep (passivation after minutes, hibernation after `hibernateAfterMs`,
 * 30 s by default): every message a cell queues marks it. Reading the system clock for each (Date.now() ~80 ns, ~1 %
 * of an embedded tell) bought nothing those bounds can see, so the system clock is read once per event-loop turn and
 * that reading marks every message of the turn. A mark is then early by at most the turn's length (the memory bus
 * delivers for at most 2 ms a turn: bus/memory-bus.ts). Any other clock (a test's ManualClock, which moves
 * synchronously) is read every time, as before.
 */
import { systemClock, type Clock } from '../../common/clock.js';

let turnNow = 0;
let fresh = false;
const expire = (): void => {
  fresh = false;
};

export function activityNow(clock: Clock): number {
  if (clock !== systemClock) return clock.now();
  if (!fresh) {
    turnNow = clock.now();
    fresh = true;
    // Microtasks run once the current turn's synchronous work is done: the next turn reads the clock again.
    queueMicrotask(expire);
  }
  return turnNow;
}
