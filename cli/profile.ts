// Where `mvm job` and `mvm admin` find the job server and the token to use: command-line flags
// first, then the environment, then a small TOML profile file. A profile that holds a token must
// not be readable by other users. The file's top-level keys are the default profile; `[profile.NAME]`
// tables are named ones, picked with `--profile NAME` (or MVM_PROFILE_NAME).
import { statSync } from 'node:fs';
import { readSmallFile } from '../shared/small-file.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { didYouMean } from '../shared/did-you-mean.js';
import { ConfigError, MvmError, type ConfigProblem } from '../shared/errors.js';
// A static import, so that the client bundle (cli/build.mjs) holds the parser: it needs no node_modules.
import TOML from '@iarna/toml';

/** The keys a profile file may hold. */
export interface Profile {
  /** Base URL of the job server, e.g. "http://127.0.0.1:9300". */
  url?: string;
  /** A user token (jobs). */
  token?: string;
  /** The admin token (targets, factories, users). */
  admin_token?: string;
  /** Base URL of a factory's API (testbeds, reservations), e.g. "http://127.0.0.1:9310". */
  lab_url?: string;
  /** A token of that API. */
  lab_token?: string;
  /** Base URL of a fleet controller's API (`mvm fleet miners`, …), e.g. "http://127.0.0.1:9320". */
  fleet_url?: string;
  /** A token of that API. */
  fleet_token?: string;
  /** More factory APIs, by lab name (`[lab.NAME] url, token`): one lab host each. */
  labs?: Record<string, NamedLabProfile>;
}

/** One `[lab.NAME]` table: a factory API and a token of it. */
export interface NamedLabProfile {
  url: string;
  token: string;
}

const PROFILE_KEYS = ['url', 'token', 'admin_token', 'lab_url', 'lab_token', 'fleet_url', 'fleet_token'] as const;
/** A lab's name: it is typed after `@` in `NAME@LAB`, so no `@`, `/` or spaces. */
const LAB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export type TokenKind = 'user' | 'admin';

export interface ConnectionFlags {
  url?: string;
  token?: string;
}

export interface Connection {
  url: string;
  token: string;
  /** Where the token came from, for error hints ("--token", "MVM_TOKEN", "profile /x/profile.toml"). */
  tokenSource: string;
  kind: TokenKind;
}

type Env = Record<string, string | undefined>;

/** The profile file to read: MVM_PROFILE, else $XDG_CONFIG_HOME/mvm/profile.toml, else ~/.config/mvm/profile.toml. */
export function profilePath(env: Env = process.env, home: string = homedir()): { file: string; explicit: boolean } {
  if (env.MVM_PROFILE) return { file: env.MVM_PROFILE, explicit: true };
  const base = env.XDG_CONFIG_HOME || join(home, '.config');
  return { file: join(base, 'mvm', 'profile.toml'), explicit: false };
}

/** The named profile to use (`--profile NAME` sets MVM_PROFILE_NAME); undefined: the top-level keys. */
export function profileName(env: Env = process.env): string | undefined {
  return env.MVM_PROFILE_NAME || undefined;
}

/**
 * Reads and validates a profile file, and returns the profile `name` names (the top-level keys
 * when none); undefined when the file does not exist and was not asked for by path or name.
 */
export function loadProfile(file: string, explicit: boolean, name?: string): Profile | undefined {
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode;
    text = readSmallFile(file, 'the profile', 64 * 1024);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit && name === undefined) return undefined;
    throw new MvmError('CONFIG_INVALID', `cannot read the profile ${file}: ${(err as Error).message}`, {
      cause: err,
      hint:
        code !== 'ENOENT'
          ? 'check its permissions'
          : name !== undefined
            ? `create it with a [profile.${name}] table (url = "…", token = "…"), or set MVM_PROFILE to the file that has it`
            : 'create it, or unset MVM_PROFILE to use the default location',
    });
  }
  let raw: Record<string, unknown>;
  try {
    raw = TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new MvmError('CONFIG_INVALID', `the profile ${file} is not valid TOML: ${(err as Error).message}`, {
      cause: err,
      hint: 'a profile holds lines such as: url = "http://127.0.0.1:9300" and token = "…"',
    });
  }
  const problems: ConfigProblem[] = [];
  const { profile: top, hasToken: topToken } = profileTable(file, '', raw, problems, true);
  const named: Record<string, Profile> = {};
  let anyToken = topToken;
  const sections = raw.profile;
  if (sections !== undefined) {
    if (typeof sections !== 'object' || sections === null || Array.isArray(sections)) {
      problems.push({ file, key: 'profile', message: 'must be tables [profile.NAME]', hint: PROFILE_EXAMPLE });
    } else {
      for (const [n, table] of Object.entries(sections as Record<string, unknown>)) {
        if (!LAB_NAME.test(n))
          problems.push({
            file,
            key: `profile.${n}`,
            message: 'a profile name holds letters, digits, "-", "_" and "." only',
          });
        if (typeof table !== 'object' || table === null || Array.isArray(table)) {
          problems.push({ file, key: `profile.${n}`, message: 'must be a table', hint: PROFILE_EXAMPLE });
          continue;
        }
        const got = profileTable(file, `profile.${n}.`, table as Record<string, unknown>, problems, false);
        named[n] = got.profile;
        anyToken ||= got.hasToken;
      }
    }
  }
  if (problems.length) throw new ConfigError(problems);
  if (anyToken && (mode & 0o004) !== 0) {
    throw new MvmError(
      'CONFIG_INVALID',
      `the profile ${file} holds a token but every user on this machine can read it`,
      {
        hint: `run: chmod 600 ${file}`,
      },
    );
  }
  if (name === undefined || name === 'default') return top;
  const picked = named[name];
  if (!picked) {
    const names = Object.keys(named);
    const guess = didYouMean(name, names);
    throw new MvmError('USAGE', `no profile named "${name}" in ${file}`, {
      hint: names.length
        ? `${guess ? `did you mean "${guess}"? ` : ''}the profiles are: default, ${names.join(', ')}`
        : `add a [profile.${name}] table to it (${PROFILE_EXAMPLE})`,
    });
  }
  return picked;
}

const PROFILE_EXAMPLE = 'e.g. [profile.lab2] with url = "http://lab2:9300" and token = "…"';

/** One profile's keys (the file's top level, or a [profile.NAME] table), each problem with its key. */
function profileTable(
  file: string,
  prefix: string,
  raw: Record<string, unknown>,
  problems: ConfigProblem[],
  top: boolean,
): { profile: Profile; hasToken: boolean } {
  const profile: Profile = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'lab') {
      profile.labs = namedLabs(file, value, problems, prefix);
    } else if (top && key === 'profile') {
      continue;
    } else if (!(PROFILE_KEYS as readonly string[]).includes(key)) {
      const guess = didYouMean(key, PROFILE_KEYS);
      problems.push({
        file,
        key: prefix + key,
        message: 'unknown key',
        hint: `${guess ? `did you mean "${guess}"? ` : ''}the keys are ${PROFILE_KEYS.join(', ')}, [lab.NAME] tables${top ? ' and [profile.NAME] tables' : ''}`,
      });
    } else if (typeof value !== 'string' || value === '') {
      problems.push({ file, key: prefix + key, message: 'must be a non-empty string' });
    } else {
      profile[key as (typeof PROFILE_KEYS)[number]] = value;
    }
  }
  for (const key of ['url', 'lab_url', 'fleet_url'] as const) {
    const v = profile[key];
    const bad = v === undefined ? undefined : urlProblem(v);
    if (bad)
      problems.push({
        file,
        key: prefix + key,
        message: bad,
        hint: `e.g. ${key} = "http://127.0.0.1:${key === 'url' ? 9300 : key === 'lab_url' ? 9310 : 9320}"`,
      });
  }
  const hasToken =
    (profile.token ??
      profile.admin_token ??
      profile.lab_token ??
      profile.fleet_token ??
      Object.values(profile.labs ?? {})[0]?.token) !== undefined;
  return { profile, hasToken };
}

/** Where a profile's keys are, for messages: the file, or `[profile.NAME] of FILE`. */
export function profilePlace(file: string, name: string | undefined): string {
  return name === undefined || name === 'default' ? file : `[profile.${name}] of ${file}`;
}

/** The profile file and the profile the environment picks (undefined: no file, none asked for). */
export function readProfile(
  env: Env = process.env,
  home: string = homedir(),
): { file: string; name: string | undefined; place: string; profile: Profile | undefined } {
  const { file, explicit } = profilePath(env, home);
  const name = profileName(env);
  return { file, name, place: profilePlace(file, name), profile: loadProfile(file, explicit, name) };
}

/** The `[lab.NAME]` tables, each with a valid url and a token; problems reported with their key. */
function namedLabs(
  file: string,
  value: unknown,
  problems: ConfigProblem[],
  prefix = '',
): Record<string, NamedLabProfile> {
  const labs: Record<string, NamedLabProfile> = {};
  const example = 'e.g. [lab.room2] with url = "http://lab-host-2:9310" and token = "…"';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ file, key: `${prefix}lab`, message: 'must be tables [lab.NAME]', hint: example });
    return labs;
  }
  for (const [name, table] of Object.entries(value)) {
    const key = `${prefix}lab.${name}`;
    if (!LAB_NAME.test(name))
      problems.push({
        file,
        key,
        message: 'a lab name holds letters, digits, "-", "_" and "." only',
        hint: 'it is typed as NAME@LAB',
      });
    if (typeof table !== 'object' || table === null || Array.isArray(table)) {
      problems.push({ file, key, message: 'must be a table', hint: example });
      continue;
    }
    const t = table as Record<string, unknown>;
    for (const k of Object.keys(t))
      if (k !== 'url' && k !== 'token')
        problems.push({ file, key: `${key}.${k}`, message: 'unknown key', hint: 'a lab has url and token' });
    for (const k of ['url', 'token'] as const)
      if (typeof t[k] !== 'string' || t[k] === '')
        problems.push({ file, key: `${key}.${k}`, message: 'must be a non-empty string', hint: example });
    const bad = typeof t.url === 'string' && t.url !== '' ? urlProblem(t.url) : undefined;
    if (bad) problems.push({ file, key: `${key}.url`, message: bad, hint: 'e.g. url = "http://lab-host-2:9310"' });
    if (typeof t.url === 'string' && typeof t.token === 'string') labs[name] = { url: t.url, token: t.token };
  }
  return labs;
}

export function urlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${url}" is not an http(s) URL`;
  return undefined;
}

const TOKEN_ENV: Record<TokenKind, string> = { user: 'MVM_TOKEN', admin: 'MVM_ADMIN_TOKEN' };
const TOKEN_KEY: Record<TokenKind, 'token' | 'admin_token'> = { user: 'token', admin: 'admin_token' };

/** How to give this kind of token, for hints. */
export function tokenHelp(kind: TokenKind, file?: string): string {
  return `pass --token, set ${TOKEN_ENV[kind]}, or put ${TOKEN_KEY[kind]} = "…" in ${file ?? '~/.config/mvm/profile.toml'}`;
}

/** Resolves the server URL and the token of `kind` from flags, then environment, then the profile. */
export function resolveConnection(
  kind: TokenKind,
  flags: ConnectionFlags,
  env: Env = process.env,
  home: string = homedir(),
): Connection {
  const { file, explicit } = profilePath(env, home);
  const name = profileName(env);
  // The profile is only needed (and only checked) when flags and environment leave something open,
  // or when one is asked for by name.
  const needProfile = !(flags.url || env.MVM_URL) || !(flags.token || env[TOKEN_ENV[kind]]) || name !== undefined;
  const profile = needProfile ? loadProfile(file, explicit, name) : undefined;
  const place = profilePlace(file, name);

  const url = flags.url || env.MVM_URL || profile?.url;
  if (!url) {
    throw new MvmError('USAGE', 'no job server URL given', {
      hint: `pass --url, set MVM_URL, or put url = "http://HOST:PORT" in ${place}`,
    });
  }
  const bad = urlProblem(url);
  if (bad) throw new MvmError('USAGE', `bad job server URL: ${bad}`, { hint: 'e.g. --url http://127.0.0.1:9300' });

  let token: string | undefined;
  let tokenSource: string;
  if (flags.token) {
    token = flags.token;
    tokenSource = '--token';
  } else if (env[TOKEN_ENV[kind]]) {
    token = env[TOKEN_ENV[kind]];
    tokenSource = TOKEN_ENV[kind];
  } else {
    token = profile?.[TOKEN_KEY[kind]];
    tokenSource = `${TOKEN_KEY[kind]} in ${place}`;
  }
  if (!token) {
    throw new MvmError('USAGE', `no ${kind} token given for ${url}`, { hint: tokenHelp(kind, place) });
  }
  return { url, token, tokenSource, kind };
}
