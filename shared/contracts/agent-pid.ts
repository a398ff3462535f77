// agent.pid: who the instance's agent is, written by whoever started it (the local executor, or
// the launcher script on an SSH host) and read to adopt or stop it after a factory restart. One
// line of JSON in both places. A pid alone can be reused: locally the kernel start time says
// whether it is still the same process, remotely the boot id whether the host rebooted since.
import { Type, type Static } from '@sinclair/typebox';
import { INSTANCE_FILES } from './layout.js';
import { defineContract } from './validate.js';

export const AgentPidSchema = Type.Object(
  {
    pid: Type.Integer({ minimum: 2 }),
    /** The agent leads its own process group. */
    pgid: Type.Integer({ minimum: 2 }),
    /** /proc/PID/stat field 22 when it was started (local). */
    start_time: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
    /** When the factory started it, ms since the epoch (local). */
    started_at: Type.Optional(Type.Integer({ minimum: 0 })),
    /** The host's boot id when it was started (SSH; '' where the host has none). */
    boot_id: Type.Optional(Type.String({ pattern: '^[0-9a-f-]*$' })),
    // Closed: a pid file in any other shape (an older format, a foreign file) is not trusted.
  },
  { additionalProperties: false },
);

export type AgentPid = Static<typeof AgentPidSchema>;

export const agentPidContract = defineContract(INSTANCE_FILES.agentPid, AgentPidSchema);

/**
 * Reads an SSH host's agent.pid. Besides the contract's JSON it accepts the one line an earlier
 * mvm's launcher wrote there, `PID BOOT_ID` (the agent led its own group, so pgid = pid): an agent
 * started before an upgrade of the factory is still adopted or stopped by the upgraded one instead
 * of being taken for a foreign file. Nothing else is trusted.
 */
export function parseRemoteAgentPid(text: string): AgentPid | undefined {
  const rec = agentPidContract.tryParse(text);
  if (rec) return rec;
  const legacy = /^([0-9]+) ([0-9a-f-]*)\n?$/.exec(text);
  if (!legacy) return undefined;
  const pid = Number(legacy[1]);
  return pid >= 2 ? { pid, pgid: pid, boot_id: legacy[2] } : undefined;
}

/** The file's text as written: one line (the type is the writer's check; readers validate). */
export function agentPidText(rec: AgentPid): string {
  return JSON.stringify(rec) + '\n';
}
