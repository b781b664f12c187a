import { describe, expect, it } from 'vitest';
import { LIMITS, checkContent, checkName, codePoints } from '../../chat/validate.js';

describe('chat validate: lengths in characters (code points)', () => {
  it('counts code points as spreading the string does, lone surrogates included', () => {
    const cases = ['', 'a', 'héllo', '😀', 'a😀b😀', '\ud83d', '\ude00', 'x\ud83dy', '\ude00\ud83d', '\ud83d\ud83d\ude00', '😀\ud83d'];
    for (const s of cases) expect(codePoints(s), JSON.stringify(s)).toBe([...s].length);
  });

  it('takes a text of exactly the limit in characters, however many UTF-16 units it has', () => {
    expect(checkContent('a'.repeat(LIMITS.contentChars))).toBeUndefined();
    expect(checkContent('😀'.repeat(LIMITS.contentChars))).toBeUndefined();
    expect(checkName('😀'.repeat(LIMITS.nameChars))).toBeUndefined();
  });

  it('refuses a text one character over the limit, and an empty one', () => {
    expect(checkContent('a'.repeat(LIMITS.contentChars + 1))).toBe(`content is longer than ${LIMITS.contentChars} characters`);
    expect(checkContent('😀'.repeat(LIMITS.contentChars) + 'a')).toBe(`content is longer than ${LIMITS.contentChars} characters`);
    expect(checkName('😀'.repeat(LIMITS.nameChars + 1))).toBe(`name is longer than ${LIMITS.nameChars} characters`);
    expect(checkContent('')).toBe('content must not be empty');
    expect(checkContent(3)).toBe('content must be a string');
  });
});
