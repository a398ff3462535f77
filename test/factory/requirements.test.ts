// Device requirements as targets: the canonical form and its name, which testbeds satisfy a
// requirement (several devices, each used once), and resolving one to a target — refused when no
// testbed can ever run it, and, without an admin token, taken from a target the config names.
import t from 'tap';
import { join, dirname } from 'node:path';
import { writeFileSync } from 'node:fs';
import { FactoryClient } from '../../shared/buildomat/factory.js';
import { silentLogger } from '../../shared/log.js';
import { parseConfig } from '../../factory/config/load.js';
import { FactoryStore } from '../../factory/store.js';
import {
  canonicalRequirement,
  describeRequirement,
  RequirementMap,
  requirementTargetName,
  satisfies,
} from '../../factory/requirements.js';
import { resolveTargets } from '../../factory/targets.js';
import { Factory } from '../../factory/tick.js';
import { TestbedService, UnsatisfiableError } from '../../factory/api/testbed-service.js';
import { tempDir } from '../helpers/tmp.js';

const TARGET = '01KAYPTX7HMFSPHN2PAAXRHESC';

function config(dir: string, extra = '') {
  const file = join(dir, 'f.toml');
  const text = `[general]
baseurl = "http://127.0.0.1:1"
[factory]
token = "t"
[target.bitaxe]
id = "${TARGET}"
${extra}
[testbed.duo]
targets = ["bitaxe"]
[testbed.duo.devices.a]
driver = "axeos"
hardware = "601"
attributes = ["fan:stock", "psu:25w"]
address = "http://127.0.0.1:10001"
[testbed.duo.devices.b]
driver = "cgminer"
hardware = "nano3s"
address = "127.0.0.1:10002"
[testbed.solo]
targets = ["bitaxe"]
[testbed.solo.devices.a]
driver = "axeos"
hardware = "601"
address = "http://127.0.0.1:10003"
`;
  writeFileSync(file, text);
  return parseConfig(text, file, { env: {} });
}

t.test('canonical form: order, duplicates and spelling do not change the requirement or its target name', async (t) => {
  const a = canonicalRequirement([
    { hardware: 'nano3s' },
    { hardware: 601, attributes: ['psu:25w', 'fan:stock', 'fan:stock'] },
  ]);
  const b = canonicalRequirement([
    { hardware: '601', attributes: ['fan:stock', 'psu:25w'] },
    { hardware: 'nano3s', attributes: [] },
  ]);
  t.same(a, b);
  t.same(a, [
    { hardware: '601', attributes: ['fan:stock', 'psu:25w'] },
    { hardware: 'nano3s', attributes: [] },
  ]);
  t.equal(requirementTargetName(a), requirementTargetName(b));
  t.match(requirementTargetName(a), /^req-[0-9a-f]{16}$/, 'a valid target name (1-64 of [A-Za-z0-9._-])');
  t.not(requirementTargetName(a), requirementTargetName(canonicalRequirement([{ hardware: '601' }])));
  t.equal(describeRequirement(a), '601 [fan:stock, psu:25w] + nano3s');
  t.throws(() => canonicalRequirement([]), { code: 'USAGE' });
});

t.test('satisfaction: every required device played by a distinct testbed device', async (t) => {
  const c = config(tempDir(t));
  const [duo, solo] = c.testbeds;
  t.same(satisfies(duo, canonicalRequirement([{ hardware: '601' }, { hardware: 'nano3s' }])), { ok: true });
  t.match(satisfies(solo, canonicalRequirement([{ hardware: '601' }, { hardware: 'nano3s' }])), {
    ok: false,
    why: /spec device #2 \(hardware nano3s/,
  });
  t.match(satisfies(duo, canonicalRequirement([{ hardware: '601' }, { hardware: '601' }])), {
    ok: false,
    why: /cannot cover all of them \(each device is used once\)/,
  });
  t.same(satisfies(solo, canonicalRequirement([{}])), { ok: true }, 'any hardware');
  const map = new RequirementMap(c.testbeds);
  const served = map.add({
    name: 'req-x',
    id: 'ID1',
    requirement: canonicalRequirement([{ hardware: '601', attributes: ['fan:stock'] }]),
  });
  t.same(served, ['duo']);
  t.same(map.idsServedBy('duo'), ['ID1']);
  t.same(map.idsServedBy('solo'), []);
  t.equal(map.nameOf('ID1'), 'req-x');
});

async function lab(t: { teardown(fn: () => void): void }, extra = '') {
  const dir = tempDir(t);
  const c = config(dir, extra);
  const store = FactoryStore.open(join(dir, 'f.sqlite3'));
  t.teardown(() => store.close());
  store.syncTestbeds(c.testbeds);
  const client = new FactoryClient({ baseUrl: c.baseUrl, token: c.token });
  const factory = new Factory({
    config: c,
    store,
    client,
    targets: await resolveTargets(c),
    executorFor: () => undefined as never,
    log: silentLogger(),
  });
  return {
    c,
    store,
    factory,
    lab: new TestbedService({ config: c, store, factory, log: silentLogger() }),
    dir: dirname(c.file),
  };
}

t.test(
  "resolving: refused with every testbed's reason; without an admin token, a configured target is used",
  async (t) => {
    const req = [{ hardware: '601', attributes: ['fan:stock'] }];
    const name = requirementTargetName(canonicalRequirement(req));
    const { lab: bare } = await lab(t);
    const never = await bare.resolveRequirement([{ hardware: '102' }]).catch((e: unknown) => e);
    t.type(never, UnsatisfiableError);
    t.match(never, {
      message: /no testbed of this factory can ever run a job needing 102/,
      testbeds: [
        { name: 'duo', why: /hardware 102/ },
        { name: 'solo', why: /hardware 102/ },
      ],
    });
    const noAdmin = await bare.resolveRequirement(req).catch((e: unknown) => e);
    t.match(noAdmin, {
      code: 'NETWORK',
      message: new RegExp(`cannot create target ${name} on the job server: the factory has no admin token`),
      hint: new RegExp(`\\[target\\.${name}\\]`),
    });

    const ID = '01KB00000000000000000000RQ';
    const { lab: configured, factory, store } = await lab(t, `[target.${name}]\nid = "${ID}"`);
    const r = await configured.resolveRequirement(req);
    t.match(r, { target: name, targetId: ID, testbeds: ['duo'], description: '601 [fan:stock]' });
    t.same(factory.servedTargetIds('duo').sort(), [TARGET, ID].sort(), 'duo serves it from now on');
    t.same(factory.servedTargetIds('solo'), [TARGET]);
    t.same(
      store.requirementTargets.all(),
      [{ name, id: ID, requirement: [{ hardware: '601', attributes: ['fan:stock'] }] }],
      'kept for the next start',
    );
    const e = configured.explain({ target: name });
    t.match(e, {
      served: true,
      testbeds: [
        { name: 'duo', serves: true },
        { name: 'solo', serves: false, reasons: [{ kind: 'not-serving' }] },
      ],
    });
  },
);
