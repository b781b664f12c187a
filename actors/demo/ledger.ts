import { badMessage, defineKind } from '../runtime/kind.js';
import { ledgerMachine, type LedgerEvent } from './ledger.machine.js';

function toEvent(msg: unknown): LedgerEvent {
  const m = msg as { type?: unknown; from?: unknown; n?: unknown };
  if (m?.type !== 'inc' && m?.type !== 'get') throw badMessage('ledger accepts inc {from?, n?} and get');
  if (m.from !== undefined && typeof m.from !== 'string') throw badMessage('inc.from must be a string');
  if (m.n !== undefined && !Number.isSafeInteger(m.n)) throw badMessage('inc.n must be an integer');
  return m as LedgerEvent;
}

/** Durable: each applied message is written before it is acknowledged. */
export const ledgerKind = defineKind({ name: 'ledger', machine: ledgerMachine, persistence: 'snapshot', toEvent });
/** Memory only: state moves with live migration, and is lost with its node. */
export const tallyKind = defineKind({ name: 'tally', machine: ledgerMachine, persistence: 'none', toEvent, canPassivate: (s) => s.context.count === 0 });
