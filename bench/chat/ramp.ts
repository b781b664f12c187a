/**
 * bench chat's capacity search, pure: which offered load to try next for one system, given what its last window
 * showed. Offered load (deliveries/s) grows geometrically from `start` by `factor` while windows pass; after the first
 * failure one step is tried halfway (geometrically) between the last pass and that failure, so the answer is within
 * about sqrt(factor) of the true knee for the price of one window. The first failing window of a search is tried
 * once more at the same load before it counts: on a shared host one window's p99 can be another tenant's burst. A
 * system failing at `start` is stepped down instead, until it passes or falls below `floor`. The search is bounded:
 * at most `maxSteps` windows per system.
 *
 * A window passes when its p99 send→receive stays within `p99LimitMs` and at least `minDelivered` of the offered
 * deliveries arrived within it (chat lines heard per second of window against lines offered × room size).
 */
export interface RampConfig {
  start: number;
  factor: number;
  /** Highest load offered: the load generators share the server's cores and saturate themselves beyond it. */
  max: number;
  floor: number;
  p99LimitMs: number;
  minDelivered: number;
  maxSteps: number;
}

export interface StepResult {
  offered: number;
  deliveriesPerSec: number;
  p99Ms: number;
}

export interface RampState {
  /** Next offered load to try, or undefined when the search is over. */
  next: number | undefined;
  lastPass: StepResult | undefined;
  firstFail: StepResult | undefined;
  refined: boolean;
  /** The one repeat of a failing window has been spent. */
  retried: boolean;
  steps: Array<StepResult & { pass: boolean }>;
}

export const initialRamp = (c: RampConfig): RampState => ({ next: c.start, lastPass: undefined, firstFail: undefined, refined: false, retried: false, steps: [] });

export function passes(c: RampConfig, r: StepResult): boolean {
  return r.p99Ms <= c.p99LimitMs && r.deliveriesPerSec >= c.minDelivered * r.offered;
}

/** The state after a window at `s.next` gave `r`. */
export function advance(c: RampConfig, s: RampState, r: StepResult): RampState {
  const pass = passes(c, r);
  const steps = [...s.steps, { ...r, pass }];
  const out = (next: number | undefined, patch: Partial<RampState> = {}): RampState => ({
    ...s,
    ...patch,
    steps,
    next: steps.length >= c.maxSteps ? undefined : next,
  });
  if (pass) {
    const lastPass = !s.lastPass || r.offered > s.lastPass.offered ? r : s.lastPass;
    // Passing after a failure (the refining step, or a step down from a failing start) ends the search.
    if (s.firstFail) return out(undefined, { lastPass });
    const up = r.offered * c.factor;
    return out(up > c.max ? undefined : up, { lastPass });
  }
  if (!s.retried) return out(r.offered, { retried: true });
  if (!s.lastPass) {
    // Failing from the start: step down until something passes.
    const down = r.offered / c.factor;
    return out(down < c.floor ? undefined : down, { firstFail: s.firstFail ?? r });
  }
  if (s.refined || s.firstFail) return out(undefined);
  return out(Math.sqrt(s.lastPass.offered * r.offered), { firstFail: r, refined: true });
}
