/**
 * One clock for every process of the benchmark, so a sender's timestamp can be read against a receiver's in another
 * process. process.hrtime() reads CLOCK_MONOTONIC, which Linux keeps per boot, not per process: every process on
 * the host reads the same value at the same instant (no NTP slew, no per-process origin). performance.now() is
 * cheaper per call but counts from this process's own start, so it is shifted once onto the monotonic clock: the
 * offset is taken as the tightest of a few paired reads, which puts it within about a microsecond of the truth,
 * far below the latencies measured here.
 */
function measureOffset(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 50; i++) {
    const a = performance.now();
    const hr = Number(process.hrtime.bigint()) / 1e6;
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = hr - (a + b) / 2;
    }
  }
  return offset;
}

const OFFSET_MS = measureOffset();

/** Milliseconds on the host's monotonic clock (fractional: microsecond resolution). Comparable across processes. */
export const monoMs = (): number => performance.now() + OFFSET_MS;

/**
 * A chat line carrying its send time: the timestamp first, then padding to a fixed length, so every system carries
 * the same ~48-character message. `parseFloat` reads the timestamp back and stops at the space.
 */
export const MESSAGE_CHARS = 48;
export function stampedMessage(): string {
  const ts = monoMs().toFixed(3);
  return ts + ' ' + 'x'.repeat(Math.max(0, MESSAGE_CHARS - ts.length - 1));
}
export const sentAt = (msg: string): number => parseFloat(msg);
