// The time inside a ULID — every id mvm and buildomat make is one — for lists whose entries carry
// no time of their own (the job server's job list): the CLI's `job list` and the web UI's jobs page.
// No imports: the web UI's bundle takes it as it is.

const ULID_CHARS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The time (ms since the epoch) a ULID was made, or undefined when `id` is not one. */
export function ulidTime(id: string): number | undefined {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/i.test(id)) return undefined;
  let ms = 0;
  for (const c of id.slice(0, 10).toUpperCase()) ms = ms * 32 + ULID_CHARS.indexOf(c);
  return ms;
}
