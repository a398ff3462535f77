// Helpers shared by every `mvm` subcommand definition.
import type { ArgumentsCamelCase, Argv, CommandModule, InferredOptionType, PositionalOptions } from 'yargs';
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

/**
 * A command module whose handler receives the arguments its builder declares: yargs infers `A` from
 * the options the builder adds, so no cast sits between the command line and the code that uses it.
 */
export function defineCommand<A>(m: {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<A>;
  handler: (args: ArgumentsCamelCase<A>) => void | Promise<void>;
}): CommandModule<object, A> {
  return m;
}

/**
 * A `<key>` positional: the command string makes yargs demand it, which its types cannot see, so
 * the value is declared present here, once, instead of at every handler.
 */
export function demandedPositional<T, K extends string, O extends PositionalOptions>(
  y: Argv<T>,
  key: K,
  options: O,
): Argv<T & { [k in K]: NonNullable<InferredOptionType<O>> }> {
  return y.positional(key, options) as Argv<T & { [k in K]: NonNullable<InferredOptionType<O>> }>;
}

/** Adds the conventional --json flag. */
export function withJson<T>(y: Argv<T>): Argv<T & { json: boolean }> {
  return y.option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON' });
}
