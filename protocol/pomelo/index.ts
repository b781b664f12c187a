/**
 * Pomelo/Pinus-compatible wire protocol: pure codecs and connection rules, no sockets. The gateway feeds bytes from
 * WebSocket messages (`decodePackages`) or TCP reads (`createPackageStreamDecoder`) into a `PomeloSession` and
 * performs the actions it returns. See docs/POMELO.md.
 */
export * from './package.js';
export * from './message.js';
export * from './route-dict.js';
export * from './handshake.js';
export * from './stream.js';
export * from './session-rules.js';
