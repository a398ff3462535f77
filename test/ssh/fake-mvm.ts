// A stand-in for `mvm` on the remote host: `--version` prints a chosen version; `agent run …`
// records its argv and the bootstrap file (content and mode, then deletes it, as the agent
// does), spawns a helper child in its own group and a "task" in a separate process group that
// ignores SIGTERM, writes running-task.json for it, and then runs until killed — or, when a
// status is written to <workdir>/fake-exit, ends its children and exits with it.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshPlacementLike } from '../../factory/executor/ssh/executor.js';
import type { Sshd } from '../helpers/sshd.js';

const SCRIPT = String.raw`#!/bin/sh
dir=$(dirname "$0")
if [ "$1" = "--version" ]; then cat "$dir/fake-version"; exit 0; fi
if [ "$1 $2" != "agent run" ]; then echo "fake mvm: unexpected arguments: $*" >&2; exit 2; fi
prev=
for a in "$@"; do
  [ "$prev" = --workdir ] && w=$a
  [ "$prev" = --bootstrap-file ] && bf=$a
  prev=$a
done
printf '%s\0' "$@" > "$w/fake-args"
stat -c %a "$bf" > "$w/fake-bootstrap-mode"
cat "$bf" > "$w/fake-bootstrap"
rm -f -- "$bf"
sleep 1000 &
echo $! > "$w/fake-child.pid"
setsid sh -c 'trap "" TERM; sleep 1000 & echo "$$ $!" > "$1/fake-task.pids.tmp"; mv "$1/fake-task.pids.tmp" "$1/fake-task.pids"; wait' fake-task "$w" </dev/null &
while [ ! -s "$w/fake-task.pids" ]; do sleep 0.05; done
read -r tpid tchild < "$w/fake-task.pids"
printf '{"pgid": %s, "job": "01JFAKEJOB", "task": 0}\n' "$tpid" > "$w/running-task.json"
echo $$ > "$w/fake-agent.pid"
# runs until killed, or until told to exit with a status (written to fake-exit)
while [ ! -s "$w/fake-exit" ]; do sleep 0.1; done
kill -KILL "-$tpid"
kill "$(cat "$w/fake-child.pid")"
exit "$(cat "$w/fake-exit")"
`;

export interface FakeMvm {
  /** The executable to use as remote_command. */
  path: string;
  setVersion(v: string): void;
}

export function installFakeMvm(dir: string, version = '0.1.0'): FakeMvm {
  const path = join(dir, 'fake-mvm');
  writeFileSync(path, SCRIPT);
  chmodSync(path, 0o755);
  const setVersion = (v: string) => writeFileSync(join(dir, 'fake-version'), v + '\n');
  setVersion(version);
  return { path, setVersion };
}

/** Where the executor puts agents on the test sshd's host: under `base`/agents, started with the fake `mvm`. */
export function fakeMvmPlacement(
  sshd: Sshd,
  base: string,
  fake: FakeMvm,
  over: Partial<SshPlacementLike> = {},
): SshPlacementLike {
  return {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    identityFile: sshd.identityFile,
    knownHosts: sshd.knownHosts,
    remoteWorkdir: join(base, 'agents'),
    remoteCommand: [fake.path],
    ...over,
  };
}

/** What the fake agent recorded in its workdir (undefined until it got that far). */
export function fakeAgentState(workdir: string) {
  const read = (n: string) => (existsSync(join(workdir, n)) ? readFileSync(join(workdir, n), 'utf8') : undefined);
  const pids = read('fake-task.pids')?.trim().split(' ').map(Number);
  return {
    agentPid: read('fake-agent.pid') ? Number(read('fake-agent.pid')) : undefined,
    childPid: read('fake-child.pid') ? Number(read('fake-child.pid')) : undefined,
    taskPid: pids?.[0],
    taskChildPid: pids?.[1],
    args: read('fake-args')?.split('\0').slice(0, -1),
    bootstrap: read('fake-bootstrap'),
    bootstrapMode: read('fake-bootstrap-mode')?.trim(),
  };
}

/** Test cleanup: SIGKILL whatever groups a stand-in agent in `workdir` may have left (the "remote" host is this one). */
export function killLeftovers(workdir: string): void {
  const s = fakeAgentState(workdir);
  for (const pgid of [s.agentPid, s.taskPid]) {
    if (pgid === undefined || pgid <= 1) continue;
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
