/** Ports for a test's servers are picked together and are distinct (one at a time, the kernel repeated one). */
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../dev/nats-server.js';

describe('freePorts', () => {
  it('gives n distinct loopback ports, free again once picked', async () => {
    const ports = await freePorts(64);
    expect(ports).toHaveLength(64);
    expect(new Set(ports).size).toBe(64);
    for (const p of ports) expect(p).toBeGreaterThan(0);
    const again = await freePorts(1);
    expect(again).toHaveLength(1);
  });
});
