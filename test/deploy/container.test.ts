// What can be checked of the container without a Docker engine: every file the Dockerfile copies
// exists (and is not excluded by .dockerignore); the build stage's compile step works in a temp
// copy holding only what the stage copies; the run stage's layout, assembled the same way, starts
// the job server and passes the HEALTHCHECK; compose.yaml's commands use flags the CLI has, and
// its ports and health URLs match the listen addresses.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import TOML from '@iarna/toml';
import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
import { MVM_BIN, projectPath } from '../../shared/paths.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string | undefined;
  steps: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line)!;
    if (op.toUpperCase() === 'FROM') {
      const m = /\bAS\s+(\S+)$/i.exec(args);
      stages.push({ name: m?.[1], steps: [] });
    } else if (stages.length) stages.at(-1)!.steps.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** COPY's sources and destination, and its --from stage. */
function copyArgs(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice(7);
  return { ...(from ? { from } : {}), sources: rest.slice(0, -1), dest: rest.at(-1)! };
}

const ROOT = projectPath();
const dockerfile = parseDockerfile(readFileSync(projectPath('Dockerfile'), 'utf8'));
const ignore = readFileSync(projectPath('.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const ignored = picomatch(
  ignore.flatMap((p) => [p, `${p}/**`]),
  { dot: true },
);

/** Copies `src` (relative to `base`) into `dir`+`dest` as COPY does: a folder's contents, a file by name. */
function copyInto(base: string, src: string, dir: string, workdir: string, dest: string): void {
  const target = join(dir, dest.startsWith('/') ? dest : join(workdir, dest));
  const from = join(base, src);
  if (statSync(from).isDirectory()) {
    mkdirSync(target, { recursive: true });
    cpSync(from, target, {
      recursive: true,
      dereference: false,
      filter: (p) => !p.includes('/node_modules/') || base !== ROOT,
    });
  } else {
    const file = dest.endsWith('/') || dest === './' ? join(target, src.split('/').at(-1)!) : target;
    mkdirSync(dirname(file), { recursive: true });
    cpSync(from, file);
  }
}

t.test('the Dockerfile: two stages, non-root, a volume, a HEALTHCHECK on /healthz', async (t) => {
  t.equal(dockerfile.length, 2);
  t.equal(dockerfile[0].name, 'build');
  const run = dockerfile[1].steps;
  t.ok(
    run.some((s) => s.op === 'USER' && s.args !== 'root' && s.args !== '0'),
    'runs as a user',
  );
  t.ok(
    run.some((s) => s.op === 'VOLUME' && s.args.includes('/var/lib/mvm')),
    'state in a volume',
  );
  t.ok(
    run.some((s) => s.op === 'HEALTHCHECK' && s.args.includes('healthcheck.mjs')),
    'a health check',
  );
  t.match(run.find((s) => s.op === 'ENV')!.args, /MVM_HEALTH_URL=http:\/\/127\.0\.0\.1:9300\/healthz/);
  t.ok(
    dockerfile[0].steps.some((s) => s.op === 'RUN' && /npm prune --omit=dev/.test(s.args)),
    'dev dependencies dropped before the copy',
  );
  t.notOk(
    run.some((s) => s.op === 'RUN' && /npm (ci|install)/.test(s.args)),
    'the run stage installs nothing',
  );
});

t.test('every file the Dockerfile copies from the context exists and is not ignored', async (t) => {
  let n = 0;
  for (const stage of dockerfile) {
    for (const s of stage.steps.filter((x) => x.op === 'COPY')) {
      const c = copyArgs(s.args);
      if (c.from) continue;
      for (const src of c.sources) {
        t.ok(existsSync(join(ROOT, src)), `${src} exists`);
        t.notOk(ignored(src), `${src} is not in .dockerignore`);
        n++;
      }
    }
  }
  t.ok(n > 10, `${n} sources`);
});

t.test('the stages work in temp copies: compile, then the server starts and passes the HEALTHCHECK', async (t) => {
  const dirs: Record<string, string> = {};
  for (const [i, stage] of dockerfile.entries()) {
    const dir = tempDir(t, `mvm-docker-${stage.name ?? 'run'}-`);
    dirs[stage.name ?? String(i)] = dir;
    let workdir = '/';
    const env: Record<string, string> = {};
    let cmd: string[] = [];
    let entrypoint: string[] = [];
    let health: string[] = [];
    for (const s of stage.steps) {
      const cwd = join(dir, workdir);
      if (s.op === 'WORKDIR') {
        workdir = s.args;
        mkdirSync(join(dir, workdir), { recursive: true });
      } else if (s.op === 'COPY') {
        const c = copyArgs(s.args);
        const fromDir = c.from ? dirs[c.from] : ROOT;
        for (const src of c.sources) {
          const rel = c.from ? src.replace(/^\//, '') : src;
          if (c.from && rel.endsWith('/node_modules')) {
            // the build stage's node_modules is the checkout's (npm ci needs the registry): link it
            symlinkSync(join(ROOT, 'node_modules'), join(cwd, c.dest));
            continue;
          }
          copyInto(fromDir, rel, dir, workdir, c.dest);
        }
      } else if (s.op === 'RUN') {
        if (/^npx tsc\b/.test(s.args)) {
          symlinkSync(join(ROOT, 'node_modules'), join(cwd, 'node_modules'));
          const r = spawnSync('sh', ['-c', s.args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
          t.equal(r.status, 0, `RUN ${s.args}${r.status ? `\n${r.stdout}${r.stderr}` : ''}`);
          t.ok(existsSync(join(cwd, 'dist', 'cli', 'main.js')), 'compiled');
        } else {
          t.comment(`not run here (needs the registry or root): RUN ${s.args.slice(0, 80)}`);
        }
      } else if (s.op === 'ENV') {
        for (const m of s.args.matchAll(/(\w+)=(\S+)/g)) env[m[1]] = m[2];
      } else if (s.op === 'CMD') cmd = JSON.parse(s.args);
      else if (s.op === 'ENTRYPOINT') entrypoint = JSON.parse(s.args);
      else if (s.op === 'HEALTHCHECK') health = JSON.parse(s.args.replace(/^.*?CMD\s+/, ''));
    }
    if (stage.name) continue;
    // The run stage: ENTRYPOINT + CMD with /opt/mvm and /var/lib/mvm mapped into the temp copy.
    const data = join(dir, 'var', 'lib', 'mvm');
    mkdirSync(data, { recursive: true });
    const map = (a: string) =>
      a
        .replace(/^\/opt\/mvm/, join(dir, 'opt', 'mvm'))
        .replace(/^\/var\/lib\/mvm/, data)
        .replace(/^0\.0\.0\.0:9300$/, '127.0.0.1:0');
    t.same(entrypoint, ['node', '/opt/mvm/bin/mvm.js']);
    const args = [...entrypoint.slice(1), ...cmd].map(map);
    const proc = spawn(process.execPath, args, {
      env: { ...process.env, ...env, MVM_ADMIN_TOKEN: 'container-test-token' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => proc.kill('SIGKILL'));
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    let err = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const url = await waitFor(
      () =>
        /mvm server listening on (\S+)/.exec(out)?.[1] ??
        (proc.exitCode !== null ? Promise.reject(new Error(`exited: ${err}`)) : undefined),
      'the server from the image layout',
      30_000,
    );
    const probe = spawnSync(health[0] === 'node' ? process.execPath : health[0], health.slice(1).map(map), {
      env: { ...process.env, MVM_HEALTH_URL: `${url}/healthz` },
      encoding: 'utf8',
    });
    t.equal(probe.status, 0, `HEALTHCHECK passes: ${probe.stderr}`);
    // Every file the code reads beside dist/ (projectPath('…') with literal arguments) is in the image.
    const sources = spawnSync(
      'grep',
      [
        '-rhoE',
        "projectPath\\(('[^']*'(, *)?)+\\)",
        'cli',
        'server',
        'factory',
        'agent',
        'runner',
        'sim',
        'shared',
        'fleet',
        '--include=*.ts',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    ).stdout;
    const paths = [
      ...new Set(
        sources
          .split('\n')
          .filter(Boolean)
          .map((call) => [...call.matchAll(/'([^']*)'/g)].map((m) => m[1]).join('/')),
      ),
    ];
    t.ok(paths.includes('server/migrations'), `found ${paths.length} paths the code reads`);
    for (const p of paths) t.ok(existsSync(join(dir, 'opt', 'mvm', p)), `${p} is in the image`);
    const down = spawnSync(process.execPath, [map('/opt/mvm/deploy/healthcheck.mjs'), 'http://127.0.0.1:9/healthz'], {
      encoding: 'utf8',
    });
    t.equal(down.status, 1, 'and fails when nothing answers');
  }
});

t.test('compose.yaml: commands, ports and health URLs match the CLI and the configs', async (t) => {
  const compose = parseYaml(readFileSync(projectPath('compose.yaml'), 'utf8'), { merge: true });
  t.same(Object.keys(compose.services).sort(), ['factory', 'fleet', 'mosquitto', 'server']);
  const commands = spawnSync(process.execPath, [MVM_BIN, '--help'], { encoding: 'utf8' }).stdout;
  const help = (cmd: string) =>
    new RegExp(`^\\s+mvm ${cmd}\\b`, 'm').test(commands)
      ? spawnSync(process.execPath, [MVM_BIN, cmd, '--help'], { encoding: 'utf8' })
      : { status: 1, stdout: '' };
  for (const name of ['server', 'factory', 'fleet']) {
    const svc = compose.services[name];
    const [cmd, ...args] = svc.command as string[];
    t.equal(cmd, name, `${name} runs mvm ${name}`);
    t.ok(
      svc.volumes.some((v: string) => v.endsWith(':/var/lib/mvm')),
      `${name} keeps its state in the volume`,
    );
    const h = help(cmd);
    if (h.status !== 0) {
      t.comment(`mvm ${cmd} is not in this build: its flags are not checked`);
    } else {
      for (const flag of args.filter((a) => a.startsWith('-')))
        t.match(h.stdout, new RegExp(`(^|\\s)${flag.replace(/-/g, '\\-')}[\\s,]`, 'm'), `mvm ${cmd} has ${flag}`);
    }
    // The port it listens on: --listen, else its config's [api] listen.
    let listen = args[args.indexOf('--listen') + 1];
    if (!args.includes('--listen')) {
      const file = svc.volumes.find((v: string) => v.includes('/etc/mvm/')).split(':')[0];
      listen = (TOML.parse(readFileSync(projectPath(file), 'utf8')) as { api: { listen: string } }).api.listen;
    }
    const port = listen.split(':').at(-1)!;
    t.ok(listen.startsWith('0.0.0.0:'), `${name} listens on every interface of its container`);
    t.ok(
      svc.ports.some((p: string) => p.endsWith(`:${port}:${port}`)),
      `${name} publishes ${port}`,
    );
    t.equal(
      svc.environment.MVM_HEALTH_URL,
      `http://127.0.0.1:${port}/healthz`,
      `${name}'s HEALTHCHECK probes its own port`,
    );
    for (const v of svc.volumes.filter((x: string) => x.startsWith('./')))
      t.ok(existsSync(projectPath(v.split(':')[0])), `${v.split(':')[0]} exists`);
  }
  const check = spawnSync(
    process.execPath,
    [MVM_BIN, 'factory', '-f', projectPath('deploy', 'docker', 'factory.toml'), '--check'],
    { encoding: 'utf8', env: { ...process.env, MVM_FACTORY_TOKEN: 'x', MVM_ADMIN_TOKEN: 'y' } },
  );
  t.equal(check.status, 0, `the compose factory config is valid: ${check.stdout}${check.stderr}`);
  if (help('fleet').status === 0) {
    const fleet = spawnSync(
      process.execPath,
      [MVM_BIN, 'fleet', '--config', projectPath('deploy', 'docker', 'fleet.toml'), '--check'],
      { encoding: 'utf8', env: { ...process.env, MVM_FLEET_LAB_TOKEN: 'x' } },
    );
    t.equal(fleet.status, 0, `the compose fleet config (with [mqtt]) is valid: ${fleet.stdout}${fleet.stderr}`);
  }
  t.ok(existsSync(projectPath('deploy', 'docker', 'mosquitto.conf')));
  t.match(readFileSync(projectPath('deploy', 'docker', 'mosquitto.conf'), 'utf8'), /listener 1883/);
  t.same(compose.services.mosquitto.profiles, ['mqtt'], 'the broker is optional');
});
