/**
 * `gatehouse token`: development keys and tokens for `gateway.auth.mode: token` (HS256).
 *
 *   gatehouse token --new-key FILE                               a fresh 32-byte secret, mode 0600 (never overwrites)
 *   gatehouse token --key FILE --sub alice [--capcom-id ABC123 ...] [--app lobby ...] [--ttl 1h]
 *
 * The token goes to stdout alone (for `$(...)`); a gateway checks it with `gateway.auth.secretFile: FILE`. Production
 * tokens come from the operator's own issuer (any JWT signer; public keys or a JWKS file on the gateway side).
 */
import { Command } from 'commander';
import { GatehouseError } from '../../common/errors.js';
import { readSecretFile, signToken, writeNewSecretFile } from '../../gateway/auth/tokens.js';
import { withExamples } from '../cli-kit.js';

const USAGE = `usage: gatehouse token --new-key FILE
       gatehouse token --key FILE --sub ACCOUNT [--capcom-id ID ...] [--app NAME ...] [--ttl 1h]
`;
const TTL_RE = /^(\d+)(s|m|h|d)$/;
const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `15m`, `1h`, `7d` → seconds; at most 30 days (a development token). */
export function parseTtl(text: string): number {
  const m = TTL_RE.exec(text);
  const sec = m ? Number(m[1]) * UNIT_SEC[m[2]!]! : NaN;
  if (!(sec >= 1 && sec <= 30 * 86_400)) throw new GatehouseError('USAGE', `--ttl must be like 90s, 15m, 1h or 7d, at most 30d (got ${JSON.stringify(text)})`);
  return sec;
}

export function tokenCommand(): Command {
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  const cmd = new Command('token')
    .description('development keys and tokens for gateway.auth.mode token (HS256); the token goes to stdout alone')
    .option('--new-key <file>', 'write a fresh 32-byte HS256 key (mode 0600; never overwrites)')
    .option('--key <file>', 'the key file to sign with')
    .option('--sub <account>', 'the account the token names')
    .option('--capcom-id <id>', 'a Capcom ID the account owns (repeatable)', collect)
    .option('--app <name>', 'an app the token is good for (repeatable; default all)', collect)
    .option('--ttl <ttl>', 'lifetime: 90s, 15m, 1h, 7d (at most 30d)', '1h')
    .action(async (values: { newKey?: string; key?: string; sub?: string; capcomId?: string[]; app?: string[]; ttl: string }) => {
      if (values.newKey !== undefined) {
        try {
          await writeNewSecretFile(values.newKey);
        } catch (err) {
          if ((err as { code?: string }).code === 'EEXIST') throw new GatehouseError('USAGE', `${values.newKey} exists; a key file is never overwritten`);
          throw err;
        }
        process.stderr.write(`wrote a new HS256 key to ${values.newKey} (mode 0600); gateway.auth: {"mode":"token","secretFile":"${values.newKey}"}\n`);
        return;
      }
      if (!values.key || !values.sub) throw new GatehouseError('USAGE', `--key FILE and --sub ACCOUNT are required\n${USAGE}`);
      const secret = await readSecretFile(values.key);
      const token = await signToken(
        secret,
        {
          sub: values.sub,
          ttlSec: parseTtl(values.ttl),
          ...(values.capcomId && { capcomIds: values.capcomId }),
          ...(values.app && { apps: values.app }),
        },
        Date.now(),
      );
      process.stdout.write(token + '\n');
    });
  return withExamples(cmd, [
    'gatehouse token --new-key dev.key',
    'gatehouse token --key dev.key --sub alice --capcom-id ALICE1 --ttl 15m',
    'TOKEN=$(gatehouse token --key dev.key --sub bob --app chat)',
  ]);
}

/** The command on its own (tests, scripts): throws instead of exiting on a bad flag. */
export async function runToken(argv: string[]): Promise<void> {
  await tokenCommand().exitOverride().parseAsync(argv, { from: 'user' });
}
