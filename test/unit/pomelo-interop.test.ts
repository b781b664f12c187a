/**
 * Interop against pinus-protocol, an independent, wire-compatible implementation of the Pomelo protocol (the codec
 * Pinus servers and their Node clients use). Both directions: their encoder → our decoder, our encoder → theirs.
 *
 * Known limit of the reference, not exercised here: its varint decoder uses 32-bit signed shifts, so ids ≥ 2^31
 * come out negative there. Stock clients count request ids up from 1 and never get near it.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import {
  createPackageStreamDecoder,
  createPomeloConnectionRules,
  createRouteDict,
  encodeDataPackage,
  decodeMessage,
  decodePackages,
  encodeHandshakeOk,
  encodeKick,
  encodeMessage,
  encodePackage,
  encodePackages,
  MessageType,
  PackageType,
  parseHandshakeRequest,
  type PackageTypeName,
  type PomeloMessage,
  type PomeloAction,
} from '../../protocol/pomelo/index.js';
import { CloseCode } from '../../protocol/error-codes.js';

// The package ships TypeScript sources with a broken `types` entry, so it is loaded untyped and described here.
interface PinusDecodedPackage {
  type: number;
  body: Buffer | null;
}
interface PinusDecodedMessage {
  id: number;
  type: number;
  compressRoute: number;
  route: string | number | null;
  body: Buffer;
  compressGzip: number;
}
interface Pinus {
  Protocol: { strencode(s: string): Buffer; strdecode(b: Buffer): string };
  Package: {
    encode(type: number, body?: Buffer): Buffer;
    decode(bytes: Uint8Array): PinusDecodedPackage | PinusDecodedPackage[];
  };
  Message: {
    encode(id: number, type: number, compressRoute: boolean, route: string | number | null, msg: Buffer): Buffer;
    decode(bytes: Uint8Array): PinusDecodedMessage;
  };
}
const pinus = createRequire(import.meta.url)('pinus-protocol') as Pinus;

const dict = createRouteDict(['gate.gateHandler.queryEntry', 'connector.entryHandler.enter', 'chat.chatHandler.send', 'onChat', 'onAdd', 'onLeave']);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const packageTypes = Object.keys(PackageType) as PackageTypeName[];
const ids = [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 2 ** 31 - 1];
const routes = ['chat.chatHandler.send', 'onChat', 'area.playerHandler.move', '聊天.发送', ''];

/** Every message type × uncompressed and dictionary-compressed routes × ids across varint byte boundaries. */
function sampleMessages(): { message: PomeloMessage; compressed: boolean }[] {
  const out: { message: PomeloMessage; compressed: boolean }[] = [];
  const bodies = [Buffer.alloc(0), json({ from: 'ana', msg: 'héllo 😀', target: '*' })];
  for (const body of bodies) {
    for (const id of ids) out.push({ message: { type: 'response', id, body }, compressed: false });
    for (const route of routes) {
      const compressed = dict.code(route) !== undefined;
      for (const id of ids) out.push({ message: { type: 'request', id, route, body }, compressed });
      out.push({ message: { type: 'notify', route, body }, compressed });
      out.push({ message: { type: 'push', route, body }, compressed });
    }
  }
  return out;
}

function theirEncode(message: PomeloMessage, compressed: boolean): Buffer {
  const id = 'id' in message ? message.id : 0;
  const route = message.type === 'response' ? null : compressed ? dict.code(message.route)! : message.route;
  return pinus.Message.encode(id, MessageType[message.type], compressed, route, Buffer.from(message.body));
}

describe('packages', () => {
  it.each(packageTypes)('%s: their encoder → our decoder, and back', (type) => {
    for (const body of [Buffer.alloc(0), json({ reason: 'x' }), Buffer.alloc(70_000, 7)]) {
      // Buffer.equals, not toEqual: deep-equal over 70 kB of numbers costs most of a second.
      const ours = decodePackages(pinus.Package.encode(PackageType[type], body));
      expect(ours.map((p) => p.type)).toEqual([type]);
      expect(Buffer.from(ours[0]!.body).equals(body)).toBe(true);
      const decoded = pinus.Package.decode(encodePackage(type, body)) as PinusDecodedPackage;
      expect(decoded.type).toBe(PackageType[type]);
      expect(Buffer.from(decoded.body ?? []).equals(body)).toBe(true);
    }
  });

  it('several packages in one buffer, both ways, and through the stream decoder cut anywhere', () => {
    const list = packageTypes.map((type, i) => ({ type, body: new Uint8Array(json({ i })) }));
    const theirs = Buffer.concat(list.map((p) => pinus.Package.encode(PackageType[p.type], Buffer.from(p.body))));
    expect(Buffer.from(encodePackages(list))).toEqual(theirs);
    const back = pinus.Package.decode(encodePackages(list)) as PinusDecodedPackage[];
    expect(back.map((p) => [p.type, Buffer.from(p.body!).toString()])).toEqual(list.map((p) => [PackageType[p.type], Buffer.from(p.body).toString()]));
    for (let cut = 0; cut <= theirs.length; cut += 3) {
      const stream = createPackageStreamDecoder();
      expect([...stream.push(theirs.subarray(0, cut)), ...stream.push(theirs.subarray(cut))]).toEqual(list);
    }
  });
});

describe('messages', () => {
  const samples = sampleMessages();

  it(`their encoder → our decoder (${samples.length} messages)`, () => {
    for (const { message, compressed } of samples) {
      const decoded = decodeMessage(theirEncode(message, compressed), dict);
      expect(decoded).toEqual({ ...message, body: new Uint8Array(message.body), routeCompressed: compressed });
    }
  });

  it('our encoder → their decoder, byte-identical to theirs', () => {
    for (const { message, compressed } of samples) {
      const ours = encodeMessage(message, { dict });
      expect(Buffer.from(ours)).toEqual(theirEncode(message, compressed));
      const theirs = pinus.Message.decode(ours);
      expect(theirs.type).toBe(MessageType[message.type]);
      expect(theirs.id).toBe('id' in message ? message.id : 0);
      expect(theirs.compressRoute).toBe(compressed ? 1 : 0);
      if (message.type === 'response') expect(theirs.route).toBeNull();
      else expect(theirs.route).toBe(compressed ? dict.code(message.route) : message.route);
      expect(theirs.body).toEqual(Buffer.from(message.body));
      expect(theirs.compressGzip).toBe(0);
    }
  });
});

describe('a Pinus-style client talking to our connection rules and encoders', () => {
  it('handshake, ack, compressed request, response, push, heartbeat and kick', () => {
    const clock = new ManualClock();
    const session = createPomeloConnectionRules(clock.now(), { heartbeatSeconds: 3, dict });
    const sent = (actions: PomeloAction[]) =>
      actions.flatMap((a) => (a.type === 'send' ? [pinus.Package.decode(a.frame) as PinusDecodedPackage] : []));
    const feed = (bytes: Buffer) => decodePackages(bytes).flatMap((p) => session.receive(p, clock.now()));
    /** What the gateway's Pomelo adapter writes for a response or a push. */
    const write = (m: PomeloMessage): PomeloAction[] => [{ type: 'send', frame: encodeDataPackage(m, { dict }) }];

    // What the stock JS client sends first (no `user` when none was given).
    const hello = { sys: { type: 'js-websocket', version: '0.0.1', rsa: {}, protoVersion: 0 } };
    const asked = feed(pinus.Package.encode(1, pinus.Protocol.strencode(JSON.stringify(hello))));
    // The gateway checks the (absent) credential before the handshake is answered.
    expect(asked.at(-1)).toEqual({ type: 'authenticate', ticket: undefined, credential: undefined });
    const [reply] = sent(session.handle({ type: 'accept', session: 's', ticket: 't', resumed: false }, clock.now()));
    expect(reply!.type).toBe(1);
    const handshake = JSON.parse(pinus.Protocol.strdecode(reply!.body!));
    expect(handshake).toMatchObject({ code: 200, sys: { heartbeat: 3, useDict: true }, user: {} });

    const [beat] = sent(feed(pinus.Package.encode(2)));
    expect(beat).toEqual({ type: 3, body: null });

    // The client compresses with the dictionary it was just given, exactly as the JS client does.
    const clientDict: Record<string, number> = handshake.sys.dict;
    const request = pinus.Message.encode(1, 0, true, clientDict['chat.chatHandler.send']!, json({ content: 'hi' }));
    const delivered = feed(pinus.Package.encode(4, request));
    expect(delivered).toEqual([
      { type: 'dispatch', id: 1, route: 'chat.chatHandler.send', body: new Uint8Array(json({ content: 'hi' })) },
    ]);

    const [response] = sent(write({ type: 'response', id: 1, body: json({ code: 200 }) }));
    const answer = pinus.Message.decode(response!.body!);
    expect([answer.type, answer.id, JSON.parse(answer.body.toString())]).toEqual([2, 1, { code: 200 }]);

    const [push] = sent(write({ type: 'push', route: 'onChat', body: json({ msg: 'hi', from: 'ana' }) }));
    const onChat = pinus.Message.decode(push!.body!);
    const codeToRoute: Record<string, string> = handshake.sys.codeToRoute;
    expect([onChat.type, onChat.compressRoute, codeToRoute[String(onChat.route)]]).toEqual([3, 1, 'onChat']);

    expect(sent(feed(pinus.Package.encode(3)))).toEqual([{ type: 3, body: null }]);

    const [kick] = sent(session.handle({ type: 'close', code: CloseCode.ShuttingDown, reason: 'server shutting down' }, clock.now()));
    expect([kick!.type, JSON.parse(pinus.Protocol.strdecode(kick!.body!))]).toEqual([5, { reason: 'server shutting down' }]);
  });

  it('reads handshake and kick packages the reference builds, and builds ones it reads', () => {
    const req = pinus.Package.encode(1, json({ sys: { type: 'js-websocket', version: '0.0.1' }, user: { uid: 'ana' } }));
    expect(parseHandshakeRequest(decodePackages(req)[0]!.body).user).toEqual({ uid: 'ana' });
    const ok = pinus.Package.decode(encodeHandshakeOk({ heartbeatSeconds: 5, dict })) as PinusDecodedPackage;
    expect(JSON.parse(ok.body!.toString()).sys.dict).toEqual(dict.routeToCode());
    const kick = pinus.Package.decode(encodeKick('bye')) as PinusDecodedPackage;
    expect(JSON.parse(kick.body!.toString())).toEqual({ reason: 'bye' });
  });
});
