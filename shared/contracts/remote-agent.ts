// What the SSH host's agent scripts print (factory/executor/ssh/remote-scripts.ts): one JSON line
// the factory validates. The scripts do not parse the agent's files: they report them verbatim
// (as JSON strings) with which of the process groups the files could name are alive, and the
// factory reads the files through their own contracts (agent-pid.ts, running-task.ts).
import { Type, type Static } from '@sinclair/typebox';
import { defineContract } from './validate.js';

const fileText = Type.Union([Type.String(), Type.Null()], { description: "the file's first line, or null" });

export const RemoteStatusSchema = Type.Object({
  /** The host's boot id now ('' where it has none). */
  boot_id: Type.String(),
  /** Process groups with a live member that is not a zombie, among the numbers in agent.pid and running-task.json. */
  live_groups: Type.Array(Type.Integer({ minimum: 2 })),
  agent_pid: fileText,
  running_task: fileText,
  agent_exit: fileText,
});

export type RemoteStatus = Static<typeof RemoteStatusSchema>;

export const remoteStatusContract = defineContract("the SSH host's agent status", RemoteStatusSchema);

export const RemoteStopSchema = Type.Object({
  outcome: Type.Union([Type.Literal('gone'), Type.Literal('terminated'), Type.Literal('killed')]),
  /** running-task.json after the stop: names a task group that started while the stop ran. */
  running_task: fileText,
  /** How many processes carrying the task's mark were stopped (they had left its group: setsid). */
  escaped: Type.Optional(Type.Integer({ minimum: 0 })),
});

export type RemoteStop = Static<typeof RemoteStopSchema>;

export const remoteStopContract = defineContract("the SSH host's agent stop", RemoteStopSchema);
