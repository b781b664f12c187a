/**
 * How a turn runner (turn-runner.ts) hears the events its XState actor emits (its effects).
 */
import type { AnyActor, EventObject } from 'xstate';

/**
 * Sends an actor's emitted events to `handler`, and returns whether it could do so directly. XState's `on('*')`
 * listeners are called by its actor scope's `emit`, which copies every listener set into a new array on each emitted
 * event: ~250 B and ~0.25 µs a turn for a machine that replies (alloc and CPU per `send`, counter machine, XState
 * 5.33). A runner is its actor's only listener, so where the scope has that hook (checked, not assumed) it is
 * replaced by the handler itself; otherwise the actor gets an ordinary `on('*')` listener. One difference: a handler
 * that threw would make the turn fail (the actor's error, supervised) rather than be re-thrown from a timer; the
 * runner's handler does not throw. test/unit/turn-runner-emit.test.ts checks that the hook is found.
 */
export function listenToEmits(a: AnyActor, handler: (e: EventObject) => void): boolean {
  const scope = (a as unknown as { _actorScope?: { emit?: unknown } })._actorScope;
  if (scope !== undefined && typeof scope.emit === 'function') {
    scope.emit = handler;
    return true;
  }
  a.on('*', handler);
  return false;
}
