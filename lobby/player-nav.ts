/**
 * Moving a player through the tree, planned as steps the player actor carries out one `ask` at a time inside one turn
 * (nothing else reaches the player meanwhile).
 *
 * Order matters: first enter what is new, top-down (a full or rank-limited target refuses before anything changed),
 * then update who stands where, then leave the old layers bottom-up. When a required step is refused, the steps
 * already done are undone in reverse, so a refused move leaves the player exactly where it was. Leaving never
 * blocks a move: a leave that fails (a layer's node just died) is left to the layer's audit to clean up.
 */
import type { Address, Effect } from '../actors/runtime/effects.js';
import type { WireError } from '../common/errors.js';
import type { CitySettings, MemberInfo } from './model.js';
import { K, kindOfLayer } from './tree.js';

export interface NavStep {
  to: Address;
  msg: Record<string, unknown>;
  /** A required step's refusal aborts the move; others are best effort. */
  required: boolean;
  /** What undoes this step when a later required step is refused. */
  undo?: Record<string, unknown>;
}

export type NavPurpose = 'move' | 'login' | 'logout';

export interface Nav {
  purpose: NavPurpose;
  goal: string[];
  steps: NavStep[];
  /** Index of the step in flight. */
  at: number;
  /** Set once a required step is refused: the remaining steps are the undo list. */
  failed?: WireError;
  /** The answer of the last layer entered (its view), returned to the client. */
  view?: unknown;
}

const ASK_TIMEOUT_MS = 3000;

export function commonPrefix(a: readonly string[], b: readonly string[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}

/** The steps from `from` to `to` for player `p`. `open` turns entering the target city into opening a reserved one. */
export function planMove(from: readonly string[], to: readonly string[], p: MemberInfo, opts: { circle: string | null; open?: CitySettings }): NavStep[] {
  const steps: NavStep[] = [];
  const k = commonPrefix(from, to);
  const layer = (id: string): Address => ({ kind: kindOfLayer(id), id });
  for (let i = k; i < to.length; i++) {
    const here = i === to.length - 1;
    const msg = here && opts.open ? { type: 'open', p, settings: opts.open } : { type: 'enter', p, here };
    steps.push({ to: layer(to[i]!), msg, required: true, undo: { type: 'leave', id: p.id } });
  }
  if (k > 0) {
    // The deepest layer both locations share: whether the player stands *in* it may change (city → its gate).
    const wasHere = k === from.length;
    const isHere = k === to.length;
    if (wasHere !== isHere) {
      const flip = { type: 'enter', p, within: true };
      steps.push({ to: layer(to[k - 1]!), msg: { ...flip, here: isHere }, required: true, undo: { ...flip, here: wasHere } });
    }
  }
  // A circle lives in its city: leaving the city leaves the circle first (after the refusable steps, since a circle
  // cannot be re-joined as it was), so the circle can hand over or break before the city sees the player go.
  if (opts.circle && !to.some((id) => opts.circle!.startsWith(`${id}-q`))) {
    steps.push({ to: { kind: K.circle, id: opts.circle }, msg: { type: 'leave', id: p.id }, required: false });
  }
  for (let i = from.length - 1; i >= k; i--) steps.push({ to: layer(from[i]!), msg: { type: 'leave', id: p.id }, required: false });
  return steps;
}

export function askFor(step: { to: Address; msg: unknown }): Effect {
  return { type: 'ask', to: step.to, msg: step.msg, then: 'navStep', timeoutMs: ASK_TIMEOUT_MS };
}

export type StepResult = { ok: true; body: unknown } | { ok: false; error: WireError };

/**
 * Advances a move after a step's answer. Returns the next ask to make, or `done` with the outcome: the move
 * succeeded (`view` of the target) or was refused and fully undone (`failed`).
 */
export function advance(nav: Nav, r: StepResult): { nav: Nav; next?: Effect; done?: { failed?: WireError; view?: unknown } } {
  const step = nav.steps[nav.at]!;
  let next: Nav = { ...nav, at: nav.at + 1 };
  if (!nav.failed) {
    if (r.ok) {
      // The view returned is the one of the layer the player now stands in.
      if (step.msg.type === 'open' || step.msg.here === true) next.view = r.body;
    } else if (step.required) {
      // Undo what was done, newest first; the refused step itself changed nothing.
      const undo = nav.steps
        .slice(0, nav.at)
        .filter((s) => s.undo)
        .reverse()
        .map((s): NavStep => ({ to: s.to, msg: s.undo!, required: false }));
      next = { ...nav, failed: r.error, steps: undo, at: 0 };
    }
  }
  if (next.at < next.steps.length) return { nav: next, next: askFor(next.steps[next.at]!) };
  return { nav: next, done: { failed: next.failed, view: next.view } };
}
