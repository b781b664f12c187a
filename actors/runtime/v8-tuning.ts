/**
 * One process-wide V8 setting the actor runtime depends on for its per-message cost: allocation-site pretenuring off.
 *
 * Why (issue 16, measured on Node 20 / V8 11.3): V8 moves an allocation site to old-space allocation ("tenures" it)
 * when most of its objects survive a scavenge, but decides only at scavenges where the new space has grown to its
 * maximum size. Bare XState never gets there (nothing survives its sends). A node does: tells wait in the bus's
 * queue between publish and delivery (up to a few thousand under a burst), those survive, the new space grows to
 * its maximum, and then four of XState's own allocation sites in a transition (seen with --trace-pretenuring: they
 * stand at a survival ratio of 1.0 in a bare run too, "maybe tenure", never decided there) are tenured. From then on
 * every transition's snapshot objects are allocated in old space, the young objects they point to survive every
 * scavenge, old space grows ~1.5 MB per scavenge and needs a mark-compact every ~60 k events. bench embedded/micro,
 * one actor, same build: 8.4-8.8 µs CPU per tell with pretenuring, 6.5 µs without; bench embedded (separate
 * processes, same run): 8.86 → 7.43 µs per event at one actor, 24.3 → 21.5 µs at 100 k actors.
 *
 * The flag only changes where V8 allocates objects of sites it would have tenured; nothing else. V8 reads it at each
 * scavenge's pretenuring step, so setting it after start-up takes effect (checked: the micro's figures above were
 * with `v8.setFlagsFromString` at run time, not a command-line flag). It is the process's setting, so a host
 * embedded in an application changes it for the whole process: `HostOptions.v8Tuning: false` leaves V8 alone.
 */
import v8 from 'node:v8';

export const PRETENURING_FLAG = '--no-allocation-site-pretenuring';

let applied = false;

/** Turns allocation-site pretenuring off for this process, once; true when this call did it. */
export function tuneV8ForTurns(): boolean {
  if (applied) return false;
  applied = true;
  v8.setFlagsFromString(PRETENURING_FLAG);
  return true;
}

/** Whether this process has had the setting applied (by `tuneV8ForTurns`). */
export function v8Tuned(): boolean {
  return applied;
}
