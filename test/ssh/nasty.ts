// Words that would do harm if a shell parsed them as syntax: every one must reach the remote
// side verbatim.
export const NASTY = [
  "bench'; touch /tmp/mvm-ssh-injected; echo '",
  'a; rm -rf /nonexistent',
  '$(touch /tmp/mvm-ssh-injected)',
  '`touch /tmp/mvm-ssh-injected`',
  "it's",
  '"double" \\ back',
  'a | b & c > d < e',
  'line1\nline2',
  '*',
  '~root',
  'A=b',
  '-n',
  '',
  ' spaced  out ',
  '${HOME}',
  '#comment',
  '!bang',
];
export const INJECTED_MARKER = '/tmp/mvm-ssh-injected';
