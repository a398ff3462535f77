// What the demo needs on its job server and its factory API, made once and kept in the demo's
// profile: the targets config.example.toml names, a factory and its token, a user, and an API
// user for `mvm testbeds`. Tokens from an earlier run are reused while they still work.
import { AdminClient } from '../../shared/buildomat/admin.js';
import { FactoryClient } from '../../shared/buildomat/factory.js';
import { HttpClient } from '../../shared/http.js';

export interface DemoAccounts {
  factoryToken: string;
  userToken: string;
}

const works = (p: Promise<unknown>) =>
  p.then(
    () => true,
    () => false,
  );

export async function ensureServerAccounts(
  url: string,
  adminToken: string,
  targets: string[],
  old: { token?: string; factory_token?: string },
): Promise<DemoAccounts> {
  const admin = new AdminClient(new HttpClient({ baseUrl: url, token: adminToken }));
  const have = new Set((await admin.listTargets()).map((t) => t.name));
  for (const name of targets)
    if (!have.has(name)) await admin.createTarget(name, `demo target ${name} (simulated testbeds)`);
  const factoryOk =
    old.factory_token !== undefined &&
    (await works(new FactoryClient({ baseUrl: url, token: old.factory_token }).listWorkers()));
  const userOk =
    old.token !== undefined && (await works(new HttpClient({ baseUrl: url, token: old.token }).get('/0/whoami')));
  const pick = async (taken: Set<string>, base: string) => {
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    return name;
  };
  const factoryToken = factoryOk
    ? old.factory_token!
    : (await admin.createFactory(await pick(new Set((await admin.listFactories()).map((f) => f.name)), 'demo-lab')))
        .token;
  const userToken = userOk
    ? old.token!
    : (await admin.createUser(await pick(new Set((await admin.listUsers()).map((u) => u.name)), 'demo'))).token;
  return { factoryToken, userToken };
}

/** An API user for `mvm testbeds` (the admin token stays beside the factory database). */
export async function ensureLabUser(apiUrl: string, adminToken: string, old: string | undefined): Promise<string> {
  if (old !== undefined && (await works(new HttpClient({ baseUrl: apiUrl, token: old }).get('/v1/whoami')))) return old;
  const http = new HttpClient({ baseUrl: apiUrl, token: adminToken });
  const taken = new Set((await http.get<Array<{ name: string }>>('/v1/users')).map((u) => u.name));
  let name = 'demo';
  for (let i = 2; taken.has(name); i++) name = `demo${i}`;
  return (await http.post<{ token: string }>('/v1/users', { name })).token;
}
