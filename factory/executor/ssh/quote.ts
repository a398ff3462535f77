// POSIX shell quoting. Every remote command mvm sends over SSH is built from an argv array with
// each word single-quoted, so no string from configuration or job data is ever parsed by the
// remote shell as syntax.

/** Quotes one word for a POSIX shell: wrapped in single quotes, each `'` written as `'\''`. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new TypeError('a shell word cannot contain a NUL byte');
  // Plain words stay readable in logs; anything else is single-quoted (`=` too: a first word
  // like `A=b` would be an assignment).
  if (word !== '' && /^[A-Za-z0-9_@%+:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Joins argv into one command line for a POSIX shell, every word quoted. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('a command needs at least one word');
  return argv.map(shellQuote).join(' ');
}

/**
 * A fixed shell script run with its inputs as positional parameters:
 * `sh -c '<script>' <name> <arg1> …`. The script text is a constant in mvm's source; only the
 * arguments vary, and the script reads them as "$1", "$2", … — never spliced into its text.
 */
export function shellScript(script: string, name: string, args: readonly string[]): string[] {
  return ['sh', '-c', script, name, ...args];
}

/** A short description of a command for messages: a script built by shellScript shows by its name. */
export function describeCommand(argv: readonly string[]): string {
  const words = argv[0] === 'sh' && argv[1] === '-c' && argv.length >= 4 ? argv.slice(3) : argv;
  const text = words.join(' ');
  return text.length > 200 ? text.slice(0, 200) + '…' : text;
}
