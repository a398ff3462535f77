// Many labs seen as one: the profile may name several factory APIs ([lab.NAME] url, token) beside
// the unnamed lab_url ("default"). --lab-url / MVM_LAB_URL still mean exactly one lab. A testbed is
// named NAME, or NAME@LAB when more than one lab has a testbed of that name.
import { homedir } from 'node:os';
import { MvmError } from '../shared/errors.js';
import { LabClient, resolveLab, type LabFlags } from './factory-api.js';
import { readProfile, urlProblem } from './profile.js';

/** The name of the profile's lab_url lab, and of the one lab given by flag or environment. */
export const DEFAULT_LAB = 'default';

export interface NamedLab {
  name: string;
  client: LabClient;
}

/** Every lab to ask: the one of --lab-url / MVM_LAB_URL, else the profile's lab_url and [lab.NAME] tables (--lab picks one). */
export function resolveLabs(
  flags: LabFlags,
  env: Record<string, string | undefined> = process.env,
  home = homedir(),
): NamedLab[] {
  if (flags['lab-url'] || env.MVM_LAB_URL)
    return [{ name: DEFAULT_LAB, client: new LabClient(resolveLab(flags, env, home)) }];
  const { place: file, profile } = readProfile(env, home);
  const labs: NamedLab[] = [];
  if (profile?.lab_url) labs.push({ name: DEFAULT_LAB, client: new LabClient(resolveLab(flags, env, home)) });
  for (const [name, l] of Object.entries(profile?.labs ?? {})) {
    if (name === DEFAULT_LAB && profile?.lab_url) {
      throw new MvmError('CONFIG_INVALID', `the profile ${file} has both lab_url and [lab.${DEFAULT_LAB}]`, {
        hint: `"${DEFAULT_LAB}" is the name of lab_url's lab: rename the table`,
      });
    }
    const bad = urlProblem(l.url);
    if (bad) throw new MvmError('CONFIG_INVALID', `[lab.${name}] url in ${file}: ${bad}`);
    labs.push({
      name,
      client: new LabClient({
        url: l.url.replace(/\/+$/, ''),
        token: l.token,
        tokenSource: `[lab.${name}] token in ${file}`,
      }),
    });
  }
  // No lab at all: the single-lab resolution says what to give.
  if (labs.length === 0) return [{ name: DEFAULT_LAB, client: new LabClient(resolveLab(flags, env, home)) }];
  if (flags.lab === undefined) return labs;
  const picked = labs.find((l) => l.name === flags.lab);
  if (!picked)
    throw new MvmError('USAGE', `no lab named "${flags.lab}" in ${file}`, {
      hint: `the labs are ${labs.map((l) => l.name).join(', ')}`,
    });
  return [picked];
}

/** The one lab a command that is not about a testbed talks to (user create, job run --spec). */
export function onlyLab(labs: NamedLab[], doing: string): NamedLab {
  if (labs.length === 1) return labs[0];
  throw new MvmError(
    'USAGE',
    `several labs are configured (${labs.map((l) => l.name).join(', ')}): say which one to ${doing}`,
    { hint: 'pass --lab NAME' },
  );
}

/** The client of the one lab `flags` and the profile give (several: --lab picks one). */
export function connectLab(flags: LabFlags, doing: string): LabClient {
  return onlyLab(resolveLabs(flags), doing).client;
}

/** Runs `fn` on every lab at once; a lab that fails is reported, not fatal, unless all fail. */
export async function acrossLabs<T>(
  labs: NamedLab[],
  fn: (lab: NamedLab) => Promise<T>,
  warn: (message: string) => void,
): Promise<Array<{ lab: NamedLab; value: T }>> {
  const settled = await Promise.allSettled(labs.map(fn));
  const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ lab: labs[i], err: s.reason as Error }] : []));
  if (failed.length === labs.length) throw failed[0].err;
  for (const f of failed) warn(`lab ${f.lab.name}: ${f.err.message}`);
  return settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ lab: labs[i], value: s.value }] : []));
}

/** Splits NAME@LAB; a plain NAME has no lab. */
export function parseTestbedRef(ref: string): { name: string; lab?: string } {
  const at = ref.lastIndexOf('@');
  return at > 0 ? { name: ref.slice(0, at), lab: ref.slice(at + 1) } : { name: ref };
}

/** Names as people should type them: NAME, or NAME@LAB for a name more than one lab has. */
export function displayNames<T extends { lab: string; name: string }>(items: T[]): Array<T & { ref: string }> {
  const labsOf = new Map<string, Set<string>>();
  for (const i of items) labsOf.set(i.name, (labsOf.get(i.name) ?? new Set()).add(i.lab));
  return items.map((i) => ({ ...i, ref: labsOf.get(i.name)!.size > 1 ? `${i.name}@${i.lab}` : i.name }));
}

/**
 * The lab a testbed named by `ref` (NAME or NAME@LAB) is in: the named lab, the only lab, or the
 * one lab that has a testbed of that name (several: ask for NAME@LAB).
 */
export async function findTestbed(
  labs: NamedLab[],
  ref: string,
): Promise<{ lab: NamedLab; name: string; ref: string }> {
  const { name, lab } = parseTestbedRef(ref);
  if (lab !== undefined) {
    const l = labs.find((x) => x.name === lab);
    if (!l)
      throw new MvmError('NOT_FOUND', `no lab named "${lab}" (in ${ref})`, {
        hint: `the labs are ${labs.map((x) => x.name).join(', ')}`,
      });
    return { lab: l, name, ref };
  }
  if (labs.length === 1) return { lab: labs[0], name, ref };
  const has = await Promise.all(
    labs.map(async (l) => {
      try {
        await l.client.call('GET', `/v1/testbeds/${encodeURIComponent(name)}`, `find testbed ${name}`);
        return true;
      } catch (err) {
        if (err instanceof MvmError && err.code === 'NOT_FOUND') return false;
        throw new MvmError((err as MvmError).code ?? 'API_ERROR', `lab ${l.name}: ${(err as Error).message}`, {
          cause: err,
          hint: `or name the lab: ${name}@LAB`,
        });
      }
    }),
  );
  const found = labs.filter((_, i) => has[i]);
  if (found.length === 1) return { lab: found[0], name, ref: name };
  if (found.length === 0)
    throw new MvmError('NOT_FOUND', `no testbed named "${name}" in any lab (${labs.map((l) => l.name).join(', ')})`, {
      hint: 'mvm testbeds list shows them all',
    });
  throw new MvmError('USAGE', `testbed "${name}" is in several labs: ${found.map((l) => l.name).join(', ')}`, {
    hint: `say which: ${found.map((l) => `${name}@${l.name}`).join(' or ')}`,
  });
}
