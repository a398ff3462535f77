// Several labs in one profile, without processes: which labs a command asks (lab_url is
// "default", [lab.NAME] the others, --lab-url / MVM_LAB_URL exactly one, --lab picks one),
// NAME@LAB parsing and the names shown when two labs have a testbed of the same name.
import t from 'tap';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { displayNames, onlyLab, parseTestbedRef, resolveLabs } from '../../cli/labs.js';
import { tempDir } from '../helpers/tmp.js';

const names = (labs: ReturnType<typeof resolveLabs>) =>
  labs.map((l) => `${l.name} ${l.client.conn.url} ${l.client.conn.token}`);

t.test('the labs of a profile, the flags and the environment', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'profile.toml');
  writeFileSync(
    file,
    'lab_url = "http://h1:9310/"\nlab_token = "t1"\n[lab.room2]\nurl = "http://h2:9310"\ntoken = "t2"\n',
    { mode: 0o600 },
  );
  const env = { MVM_PROFILE: file };
  t.same(names(resolveLabs({}, env)), ['default http://h1:9310 t1', 'room2 http://h2:9310 t2']);
  t.same(names(resolveLabs({ lab: 'room2' }, env)), ['room2 http://h2:9310 t2']);
  t.same(
    names(resolveLabs({}, { ...env, MVM_LAB_URL: 'http://h3:9310', MVM_LAB_TOKEN: 't3' })),
    ['default http://h3:9310 t3'],
    'the environment names exactly one lab',
  );
  t.same(names(resolveLabs({ 'lab-url': 'http://h4:9310', 'lab-token': 't4' }, env)), ['default http://h4:9310 t4']);
  t.throws(() => resolveLabs({ lab: 'attic' }, env), /no lab named "attic"/);
  t.throws(
    () => onlyLab(resolveLabs({}, env), 'create a user in'),
    /several labs are configured \(default, room2\): say which one to create a user in/,
  );

  writeFileSync(file, '[lab.only]\nurl = "http://h5:9310"\ntoken = "t5"\n', { mode: 0o600 });
  t.same(names(resolveLabs({}, env)), ['only http://h5:9310 t5'], 'named labs alone are fine');
  writeFileSync(file, '', { mode: 0o600 });
  t.throws(() => resolveLabs({}, env), /no factory API URL given/);
  writeFileSync(file, '[lab.room2]\nurl = "http://h2:9310"\ntoken = "t2"\n');
  chmodSync(file, 0o644);
  t.throws(
    () => resolveLabs({}, env),
    /every user on this machine can read it/,
    "a lab's token makes the profile secret",
  );
});

t.test('NAME@LAB, and NAME@LAB shown only where a name repeats', async (t) => {
  t.same(parseTestbedRef('bench-1@room2'), { name: 'bench-1', lab: 'room2' });
  t.same(parseTestbedRef('bench-1'), { name: 'bench-1' });
  const shown = displayNames([
    { lab: 'default', name: 'bench-1' },
    { lab: 'room2', name: 'bench-1' },
    { lab: 'room2', name: 'supra' },
  ]).map((x) => x.ref);
  t.same(shown, ['bench-1@default', 'bench-1@room2', 'supra']);
});
