// What the client bundle uses for the `string-width` package (yargs' help layout): the length
// without ANSI escapes. mvm's help text has no wide (CJK) or emoji characters, and the package's
// emoji and East Asian width tables cost more than the rest of the command's start.
const ANSI = /\x1b\[[0-9;]*[A-Za-z]|\x1b\]8;;.*?\x07/g;

export default function stringWidth(s) {
  return typeof s === 'string' ? s.replace(ANSI, '').length : 0;
}
