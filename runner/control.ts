// `mvm runner control …` words → a ControlAction, with a usage error that says exactly what is
// expected when the words do not fit.
import { MvmError } from '../shared/errors.js';
import { ALL_MODES, AVALON_MODES, AXEOS_MODES, type Mode } from './drivers/modes.js';
import type { ControlAction, PoolConfig } from './drivers/types.js';

export const CONTROL_USAGE =
  'restart | pause | resume | mode eco|standard|turbo|oc|low|med|high | frequency MHZ | voltage MV | fan PCT | ' +
  'pools set --pool-url URL --user USER [--password P] (repeat for more pools) | pools switch N | pools priority N N…';

export function usageError(message: string): never {
  throw new MvmError('USAGE', message, { hint: `mvm runner control ${CONTROL_USAGE}` });
}

function integer(word: string | undefined, what: string): number {
  if (word === undefined || !/^\d+$/.test(word))
    usageError(`${what}: expected a whole number, got ${word === undefined ? 'nothing' : JSON.stringify(word)}`);
  return Number(word);
}

export interface PoolFlags {
  url?: string[];
  user?: string[];
  password?: string[];
}

export function poolsFromFlags(flags: PoolFlags): PoolConfig[] {
  const urls = flags.url ?? [];
  const users = flags.user ?? [];
  const passwords = flags.password ?? [];
  if (urls.length === 0) usageError('pools set: give at least one --pool-url URL --user USER');
  if (users.length !== urls.length)
    usageError(`pools set: ${urls.length} --pool-url but ${users.length} --user; give one --user per --pool-url`);
  if (passwords.length > urls.length) usageError('pools set: more --password than --pool-url');
  return urls.map((url, i) => ({ url, user: users[i], password: passwords[i] }));
}

export function parseControl(words: string[], flags: PoolFlags = {}): ControlAction {
  const [action, ...rest] = words.map(String);
  const extra = (n: number) => {
    if (rest.length > n)
      usageError(
        `${action}: unexpected ${rest
          .slice(n)
          .map((w) => JSON.stringify(w))
          .join(' ')}`,
      );
  };
  switch (action) {
    case 'restart':
    case 'pause':
    case 'resume':
      extra(0);
      return { op: action };
    case 'mode': {
      extra(1);
      // Which of these a device offers (and the aliases) is the driver's to say: modes.ts.
      const mode = rest[0]?.trim().toLowerCase() as Mode;
      if (!ALL_MODES.includes(mode)) {
        usageError(
          `mode: expected one of ${AXEOS_MODES.join(', ')} (AxeOS) or ${AVALON_MODES.join(', ')} (Avalon Nano), got ${rest[0] === undefined ? 'nothing' : JSON.stringify(rest[0])}`,
        );
      }
      return { op: 'mode', mode };
    }
    case 'frequency':
      extra(1);
      return { op: 'frequency', mhz: integer(rest[0], 'frequency (MHz)') };
    case 'voltage':
      extra(1);
      return { op: 'voltage', mv: integer(rest[0], 'voltage (mV)') };
    case 'fan': {
      extra(1);
      const percent = integer(rest[0], 'fan (%)');
      if (percent > 100) usageError(`fan: ${percent} % is more than 100`);
      return { op: 'fan', percent };
    }
    case 'pools':
      if (rest[0] === 'set') {
        if (rest.length > 1) usageError('pools set takes --pool-url/--user/--password flags, not words');
        return { op: 'pools-set', pools: poolsFromFlags(flags) };
      }
      if (rest[0] === 'switch') {
        if (rest.length > 2) usageError(`pools switch: unexpected ${JSON.stringify(rest[2])}`);
        return { op: 'pools-switch', index: integer(rest[1], 'pools switch (pool index)') };
      }
      if (rest[0] === 'priority') {
        if (rest.length < 2)
          usageError('pools priority: give the pool indexes in the order to try them, e.g. `pools priority 1 0 2`');
        const order = rest.slice(1).map((w) => integer(w, 'pools priority (pool index)'));
        if (new Set(order).size !== order.length)
          usageError(`pools priority: an index is named twice (${order.join(' ')})`);
        return { op: 'pools-priority', order };
      }
      return usageError(
        `pools: expected "set", "switch" or "priority", got ${rest[0] === undefined ? 'nothing' : JSON.stringify(rest[0])}`,
      );
    default:
      return usageError(action === undefined ? 'name an action' : `unknown action ${JSON.stringify(action)}`);
  }
}
