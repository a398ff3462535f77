// Helpers shared by every `mvm` subcommand definition.
import type { Argv } from 'yargs';
import { MvmError } from '../shared/errors.js';

/** Options every command accepts. */
export interface GlobalArgs {
  'log-level'?: string;
}

/** A command that is planned but not built yet: it says so clearly instead of failing oddly. */
export function notYet(what: string): never {
  throw new MvmError('USAGE', `${what} is not available in this version of mvm yet`, {
    hint: 'see the project issues for its status',
  });
}

/** Adds the conventional --json flag. */
export function withJson<T>(y: Argv<T>): Argv<T & { json: boolean }> {
  return y.option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON' });
}
