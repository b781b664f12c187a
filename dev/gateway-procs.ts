/**
 * `gatehouse node` processes with the gateway role for tests: free ports, the echo test app loaded with `--app`, and
 * the URLs read back from the start-up banner.
 */
import { join } from 'node:path';
import { fastClusterFlags, ROOT, runCli, type Proc } from './procs.js';

export const ECHO_APP = join(ROOT, 'dist', 'dev', 'echo-app.js');

export interface GatewayProc {
  readonly proc: Proc;
  readonly ws: string;
  readonly tcp: string;
  readonly http: string;
}

const FREE_PORTS = ['wsPort', 'tcpPort', 'pomeloWsPort', 'pomeloTcpPort', 'httpPort'].flatMap((p) => ['--set', `gateway.${p}=0`]);

export async function startGatewayProcess(o: {
  natsUrl: string;
  prefix: string;
  id: string;
  roles?: string;
  extra?: string[];
}): Promise<GatewayProc> {
  const args = ['node', '--nats', o.natsUrl, '--prefix', o.prefix, '--node-id', o.id, '--roles', o.roles ?? 'gateway'];
  const proc = runCli([...args, ...fastClusterFlags(), ...FREE_PORTS, '--app', ECHO_APP, ...(o.extra ?? [])]);
  try {
    await proc.waitFor(/is running/);
    const url = async (re: RegExp) => (await proc.waitFor(re)).trim().split(/\s+/).pop()!;
    return { proc, ws: await url(/native ws\s/), tcp: await url(/native tcp\s/), http: (await url(/entry \(http\)\s/)).replace(/\/entry$/, '') };
  } catch (err) {
    await proc.kill('SIGKILL');
    throw err;
  }
}
