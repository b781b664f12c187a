import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/** host-pid-random: unique per process start, readable in logs and `status`. */
export function newNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '').slice(0, 20) || 'host';
  return `${host}-${process.pid}-${randomBytes(2).toString('hex')}`;
}
