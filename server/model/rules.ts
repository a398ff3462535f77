// Names and rules users and workers send: output rules with buildomat's sigils, event stream
// names, tag names, and file names (inputs, output paths) that must not escape their folder.
import type { OutputRuleRow } from '../db/schema.js';
import { badRequest } from '../http/errors.js';

/** Parses `[!|%|=|%=|=%]/abs/glob` the way buildomat does. */
export function parseOutputRule(input: string): OutputRuleRow {
  let i = 0;
  let ignore = false;
  let sizeChangeOk = false;
  let requireMatch = false;
  const where = `output rule ${JSON.stringify(input)}`;
  if (input[0] === '!') {
    ignore = true;
    i = 1;
  } else {
    while (input[i] === '%' || input[i] === '=') {
      if (input[i] === '%') {
        if (sizeChangeOk) throw badRequest(`${where}: '%' given twice`);
        sizeChangeOk = true;
      } else {
        if (requireMatch) throw badRequest(`${where}: '=' given twice`);
        requireMatch = true;
      }
      i++;
    }
  }
  const rule = input.slice(i);
  if (!rule.startsWith('/')) {
    throw badRequest(`${where}: the pattern must be an absolute path, optionally prefixed by '!', '%' or '='`);
  }
  return { rule, ignore, size_change_ok: sizeChangeOk, require_match: requireMatch };
}

export function formatOutputRule(r: OutputRuleRow): string {
  return `${r.ignore ? '!' : ''}${r.size_change_ok ? '%' : ''}${r.require_match ? '=' : ''}${r.rule}`;
}

const STREAM_RE = /^[A-Za-z0-9._-]{1,64}$/;

export function checkStream(stream: string, where: string): void {
  if (!STREAM_RE.test(stream)) {
    throw badRequest(
      `${where}: invalid stream name ${JSON.stringify(stream.slice(0, 80))}: use 1 to 64 characters of [A-Za-z0-9._-]`,
    );
  }
}

const TAG_RE = /^[0-9a-z._-]+$/;

export function checkTags(tags: Record<string, string>): void {
  const names = Object.keys(tags);
  if (names.length > 100) throw badRequest('too many tags: at most 100');
  const total = names.reduce((n, k) => n + k.length + tags[k].length, 0);
  if (total > 131072) throw badRequest('total size of all tags is larger than 128KB');
  for (const n of names)
    if (!TAG_RE.test(n)) throw badRequest(`tag name ${JSON.stringify(n)}: tag names must be [0-9a-z._-]+`);
}

const SEGMENT_RE = /^[A-Za-z0-9._+@,=:~-]+$/;

/** An input name: a relative path of safe segments, no `.`/`..`, at most 255 characters. */
export function checkInputName(name: string): void {
  const where = `input name ${JSON.stringify(name.slice(0, 300))}`;
  if (name.length === 0 || name.length > 255) throw badRequest(`${where}: must be 1 to 255 characters`);
  if (name.startsWith('/')) throw badRequest(`${where}: must be a relative path (no leading '/')`);
  for (const seg of name.split('/')) {
    if (seg === '.' || seg === '..')
      throw badRequest(`${where}: '.' and '..' segments are not allowed (path traversal)`);
    if (!SEGMENT_RE.test(seg)) {
      throw badRequest(`${where}: each path segment must be non-empty characters of [A-Za-z0-9._+@,=:~-]`);
    }
  }
}

/** An output path: absolute, normalised, no `.`/`..` segments, no NUL, at most 4096 characters. */
export function checkOutputPath(path: string): void {
  const where = `output path ${JSON.stringify(path.slice(0, 300))}`;
  if (path.length === 0 || path.length > 4096) throw badRequest(`${where}: must be 1 to 4096 characters`);
  if (!path.startsWith('/')) throw badRequest(`${where}: must be an absolute path`);
  if (path.includes('\0') || path.includes('\\')) throw badRequest(`${where}: NUL and backslash are not allowed`);
  for (const seg of path.slice(1).split('/')) {
    if (seg === '' || seg === '.' || seg === '..') {
      throw badRequest(`${where}: empty, '.' and '..' segments are not allowed (path traversal)`);
    }
  }
}
