// Where `mvm job` and `mvm admin` find the job server and the token to use: command-line flags
// first, then the environment, then a small TOML profile file. A profile that holds a token must
// not be readable by other users.
import { statSync } from 'node:fs';
import { readSmallFile } from '../shared/small-file.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ConfigError, MvmError, type ConfigProblem } from '../shared/errors.js';

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
}

// The TOML parser is loaded only when there is a profile to read (most commands that get --url and
// --token, or the environment, never need it): a synchronous require, as loadProfile is synchronous.
const toml = (): typeof import('@iarna/toml') => createRequire(import.meta.url)('@iarna/toml') as typeof import('@iarna/toml');

const PROFILE_KEYS = ['url', 'token', 'admin_token', 'lab_url', 'lab_token', 'fleet_url', 'fleet_token'] as const;

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

/** Reads and validates a profile; undefined when the file does not exist and was not asked for by name. */
export function loadProfile(file: string, explicit: boolean): Profile | undefined {
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode;
    text = readSmallFile(file, 'the profile', 64 * 1024);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return undefined;
    throw new MvmError('CONFIG_INVALID', `cannot read the profile ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: code === 'ENOENT' ? 'create it, or unset MVM_PROFILE to use the default location' : 'check its permissions',
    });
  }
  let raw: Record<string, unknown>;
  try {
    raw = toml().parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new MvmError('CONFIG_INVALID', `the profile ${file} is not valid TOML: ${(err as Error).message}`, {
      cause: err,
      hint: 'a profile holds lines such as: url = "http://127.0.0.1:9300" and token = "…"',
    });
  }
  const problems: ConfigProblem[] = [];
  const profile: Profile = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(PROFILE_KEYS as readonly string[]).includes(key)) {
      problems.push({ file, key, message: 'unknown key', hint: `the keys are ${PROFILE_KEYS.join(', ')}` });
    } else if (typeof value !== 'string' || value === '') {
      problems.push({ file, key, message: 'must be a non-empty string' });
    } else {
      profile[key as (typeof PROFILE_KEYS)[number]] = value;
    }
  }
  for (const key of ['url', 'lab_url', 'fleet_url'] as const) {
    const v = profile[key];
    const bad = v === undefined ? undefined : urlProblem(v);
    if (bad) problems.push({ file, key, message: bad, hint: `e.g. ${key} = "http://127.0.0.1:${key === 'url' ? 9300 : key === 'lab_url' ? 9310 : 9320}"` });
  }
  if (problems.length) throw new ConfigError(problems);
  if ((profile.token !== undefined || profile.admin_token !== undefined || profile.lab_token !== undefined || profile.fleet_token !== undefined) && (mode & 0o004) !== 0) {
    throw new MvmError('CONFIG_INVALID', `the profile ${file} holds a token but every user on this machine can read it`, {
      hint: `run: chmod 600 ${file}`,
    });
  }
  return profile;
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
const TOKEN_KEY: Record<TokenKind, keyof Profile> = { user: 'token', admin: 'admin_token' };

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
  // The profile is only needed (and only checked) when flags and environment leave something open.
  const needProfile = !(flags.url || env.MVM_URL) || !(flags.token || env[TOKEN_ENV[kind]]);
  const profile = needProfile ? loadProfile(file, explicit) : undefined;

  const url = flags.url || env.MVM_URL || profile?.url;
  if (!url) {
    throw new MvmError('USAGE', 'no job server URL given', {
      hint: `pass --url, set MVM_URL, or put url = "http://HOST:PORT" in ${file}`,
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
    tokenSource = `${TOKEN_KEY[kind]} in ${file}`;
  }
  if (!token) {
    throw new MvmError('USAGE', `no ${kind} token given for ${url}`, { hint: tokenHelp(kind, file) });
  }
  return { url, token, tokenSource, kind };
}
