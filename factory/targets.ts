// Target names → ids. The factory API only knows ids (ULIDs); names in the config are resolved
// once at start-up through the admin API (following redirects), ULIDs are taken as they are.
import { ConfigError, MvmError, type ConfigProblem } from '../shared/errors.js';
import { HttpClient } from '../shared/http.js';
import { isUlid } from '../shared/ids.js';
import { listTargets } from '../shared/buildomat/factory.js';
import type { Target } from '../shared/api/types.js';
import type { FactoryConfig } from './config/types.js';
import { serverHttp } from './server-http.js';

export class TargetMap {
  /** ref as written in a testbed's `targets` → target id */
  private readonly ids = new Map<string, string>();
  /** target id → a name for people (the config's name, or the id) */
  private readonly names = new Map<string, string>();

  set(ref: string, id: string): void {
    this.ids.set(ref, id);
    if (!this.names.has(id) || isUlid(this.names.get(id)!)) this.names.set(id, ref);
  }

  idOf(ref: string): string | undefined {
    return this.ids.get(ref);
  }

  nameOf(id: string): string {
    return this.names.get(id) ?? id;
  }

  /** Ids served by a testbed whose `targets` are `refs`. */
  idsOf(refs: string[]): string[] {
    return [...new Set(refs.map((r) => this.ids.get(r)).filter((x): x is string => x !== undefined))];
  }
}

/** Resolves every target a testbed names. Throws ConfigError naming each target that cannot be resolved. */
export async function resolveTargets(config: FactoryConfig, signal?: AbortSignal): Promise<TargetMap> {
  const map = new TargetMap();
  const defined = new Map(config.targets.map((t) => [t.name, t]));
  const pending: string[] = [];
  // Every target whose id the config gives is known, listed by a testbed or not (a requirement
  // target made by hand is one: its testbeds serve it by their devices).
  for (const t of config.targets) if (t.id !== undefined) map.set(t.name, t.id);
  for (const ref of new Set(config.testbeds.flatMap((t) => t.targets))) {
    const known = defined.get(ref)?.id ?? (isUlid(ref) ? ref : undefined);
    if (known !== undefined) map.set(ref, known);
    else pending.push(ref);
  }
  if (pending.length === 0) return map;

  const problems: ConfigProblem[] = [];
  if (!config.adminToken) {
    for (const ref of pending) {
      problems.push({
        file: config.file,
        key: `target.${ref}`,
        message: `target "${ref}" is named, but the factory API only takes ids and no admin token is configured to look it up`,
        hint: `write id = "<ULID>" under [target.${ref}] (see \`mvm admin target list\`), or set [general] admin_token_file`,
      });
    }
    throw new ConfigError(problems);
  }
  const http = new HttpClient({ ...serverHttp(config, config.adminToken), userAgent: 'mvm-factory' });
  let all: Target[];
  try {
    all = await listTargets(http, { signal });
  } catch (err) {
    if (err instanceof MvmError && err.retryable) throw err;
    throw new MvmError(
      'CONFIG_INVALID',
      `cannot list targets at ${config.baseUrl} to resolve ${pending.join(', ')}: ${(err as Error).message}`,
      {
        cause: err,
        hint: 'check [general] admin_token, or give each target its id under [target.NAME]',
      },
    );
  }
  const byName = new Map(all.map((t) => [t.name, t]));
  const byId = new Map(all.map((t) => [t.id, t]));
  for (const ref of pending) {
    let t = byName.get(ref);
    // Follow redirects the way the server does when a job names this target.
    for (let hops = 0; t?.redirect && hops < 16; hops++) t = byId.get(t.redirect);
    if (!t) {
      problems.push({
        file: config.file,
        key: `target.${ref}`,
        message: `the server at ${config.baseUrl} has no target named "${ref}"`,
        hint: `create it (\`mvm admin target create ${ref}\`) or fix the name`,
      });
    } else map.set(ref, t.id);
  }
  if (problems.length) throw new ConfigError(problems);
  return map;
}
