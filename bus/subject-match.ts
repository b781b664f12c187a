/**
 * NATS subject rules, shared by the in-memory bus and the subject builder so both accept exactly what nats-server
 * accepts: tokens separated by '.', no empty tokens, no whitespace; '*' matches one token, '>' (last only) one or more.
 */
import { GatehouseError, ErrorCode } from '../common/errors.js';

const BAD_CHARS = /[\s]/;

export function assertSubject(subject: string, wildcardsAllowed: boolean): void {
  if (typeof subject !== 'string' || subject.length === 0) throw badSubject(subject, 'empty subject');
  if (BAD_CHARS.test(subject)) throw badSubject(subject, 'whitespace in subject');
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length === 0) throw badSubject(subject, 'empty token');
    if (t === '*' || t === '>') {
      if (!wildcardsAllowed) throw badSubject(subject, 'wildcard not allowed when publishing');
      if (t === '>' && i !== tokens.length - 1) throw badSubject(subject, "'>' must be the last token");
    }
  }
}

function badSubject(subject: string, why: string): GatehouseError {
  return new GatehouseError(ErrorCode.BadSubject, `bad subject ${JSON.stringify(subject)}: ${why}`);
}

/** Does a concrete subject (already split) match a pattern (already split)? */
export function matchTokens(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '>') return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== '*' && p !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}

export function matches(pattern: string, subject: string): boolean {
  return matchTokens(pattern.split('.'), subject.split('.'));
}
