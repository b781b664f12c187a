/** Runtime counters: cheap integers bumped on the hot path, read by `status` and the metrics endpoint. */
export function newRuntimeMetrics() {
  return {
    received: 0,
    processed: 0,
    duplicates: 0,
    /** Envelopes refused because their sequence ran too far ahead (actors/runtime/seen.ts). */
    seqRefused: 0,
    busy: 0,
    badMessages: 0,
    crashes: 0,
    escalations: 0,
    persisted: 0,
    fenced: 0,
    activations: 0,
    passivations: 0,
    droppedTells: 0,
    /** Messages refused and timer turns put off while this node could not confirm it still owns its shards. */
    unconfirmed: 0,
    /** Snapshot writes whose outcome is unknown (timed out after being sent): answered MAYBE_APPLIED. */
    maybeApplied: 0,
    /** Idle actors reduced to a compact image (actors.hibernateAfterMs), and hibernated actors restored by a message. */
    hibernations: 0,
    wakes: 0,
  };
}
export type RuntimeMetrics = ReturnType<typeof newRuntimeMetrics>;
