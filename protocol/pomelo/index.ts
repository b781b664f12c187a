/**
 * Pomelo/Pinus-compatible wire protocol: pure codecs and connection rules, no sockets. The gateway feeds bytes from
 * WebSocket messages (`decodePackages`) or TCP reads (`createPackageStreamDecoder`) into the connection rules
 * (`createPomeloConnectionRules`) and performs the actions they return. See docs/POMELO.md.
 */
export * from './frames.js';
export * from './message.js';
export * from './route-dict.js';
export * from './handshake.js';
export * from './stream.js';
export * from './connection-rules.js';
export * from '../connection-rules.js';
