import { badMessage, defineKind } from '../runtime/kind.js';
import { counterMachine, type CounterEvent } from './counter.machine.js';
import { ledgerKind, tallyKind } from './ledger.js';

export const counterKind = defineKind({
  name: 'counter',
  machine: counterMachine,
  persistence: 'snapshot',
  toEvent(msg) {
    const m = msg as { type?: unknown; by?: unknown };
    if (m?.type !== 'inc' && m?.type !== 'get' && m?.type !== 'reset') throw badMessage('counter accepts inc, get, reset');
    if (m.by !== undefined && (typeof m.by !== 'number' || !Number.isFinite(m.by))) throw badMessage('inc.by must be a finite number');
    return m as CounterEvent;
  },
});

export const demoApp = { name: 'demo', kinds: [counterKind, ledgerKind, tallyKind] };
