/**
 * `gatehouse token`: development keys and tokens for `gateway.auth.mode: token` (HS256).
 *
 *   gatehouse token --new-key FILE                               a fresh 32-byte secret, mode 0600 (never overwrites)
 *   gatehouse token --key FILE --sub alice [--capcom-id ABC123 ...] [--app lobby ...] [--ttl 1h]
 *
 * The token goes to stdout alone (for `$(...)`); a gateway checks it with `gateway.auth.secretFile: FILE`. Production
 * tokens come from the operator's own issuer (any JWT signer; public keys or a JWKS file on the gateway side).
 */
import { parseArgs } from 'node:util';
import { GatehouseError } from '../../common/errors.js';
import { readSecretFile, signToken, writeNewSecretFile } from '../../gateway/auth/tokens.js';

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

export async function runToken(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'new-key': { type: 'string' },
      key: { type: 'string' },
      sub: { type: 'string' },
      'capcom-id': { type: 'string', multiple: true },
      app: { type: 'string', multiple: true },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values['new-key'] !== undefined) {
    try {
      await writeNewSecretFile(values['new-key']);
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') throw new GatehouseError('USAGE', `${values['new-key']} exists; a key file is never overwritten`);
      throw err;
    }
    process.stderr.write(`wrote a new HS256 key to ${values['new-key']} (mode 0600); gateway.auth: {"mode":"token","secretFile":"${values['new-key']}"}\n`);
    return;
  }
  if (!values.key || !values.sub) throw new GatehouseError('USAGE', `--key FILE and --sub ACCOUNT are required\n${USAGE}`);
  const secret = await readSecretFile(values.key);
  const token = await signToken(
    secret,
    {
      sub: values.sub,
      ttlSec: parseTtl(values.ttl ?? '1h'),
      ...(values['capcom-id'] && { capcomIds: values['capcom-id'] }),
      ...(values.app && { apps: values.app }),
    },
    Date.now(),
  );
  process.stdout.write(token + '\n');
}
