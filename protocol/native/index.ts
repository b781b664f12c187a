/** The native client protocol: frames, their codec, TCP framing and the connection rules. Spec: docs/PROTOCOL.md. */
export * from './frames.js';
export { ProtocolError, decodeFrame, encodeFrame, type FrameLimits } from './codec.js';
export { TCP_PREFIX_BYTES, createTcpFrameDecoder, encodeTcp, type TcpFrameDecoder } from './stream.js';
export * from './connection-rules.js';
export * from '../connection-rules.js';
export * from '../error-codes.js';
