/** UTF-8 by hand, shared by both wire protocols (native close reasons, Pomelo routes). Pure, no imports. */

/**
 * UTF-8 byte length of `s`; a lone surrogate counts as U+FFFD (3 bytes), as TextEncoder writes it, and a surrogate
 * pair is one 4-byte code point. Routes are encoded by hand straight into the message buffer: for route-sized
 * strings, TextEncoder.encode (which allocates per call) measured 1.5-4x slower than this loop on Node 20, and the
 * length is needed before the buffer exists anyway.
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c <= 0xdbff && c >= 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Writes `s` as UTF-8 (lone surrogates as U+FFFD) at `offset`; returns the offset after it. */
export function writeUtf8(out: Uint8Array, offset: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      out[offset++] = c;
    } else if (c < 0x800) {
      out[offset++] = 0xc0 | (c >> 6);
      out[offset++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1); // NaN past the end, which fails the test below
      if (c <= 0xdbff && (next & 0xfc00) === 0xdc00) {
        const cp = 0x1_0000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        out[offset++] = 0xf0 | (cp >> 18);
        out[offset++] = 0x80 | ((cp >> 12) & 0x3f);
        out[offset++] = 0x80 | ((cp >> 6) & 0x3f);
        out[offset++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        out[offset++] = 0xef;
        out[offset++] = 0xbf;
        out[offset++] = 0xbd;
      }
    } else {
      out[offset++] = 0xe0 | (c >> 12);
      out[offset++] = 0x80 | ((c >> 6) & 0x3f);
      out[offset++] = 0x80 | (c & 0x3f);
    }
  }
  return offset;
}
