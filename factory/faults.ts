// Named fault points for restart-recovery tests: with MVM_FAULT_POINT=<name> the factory SIGKILLs
// itself when it reaches that point, exactly like a power cut between two steps.
export const FAULT_POINTS = [
  'after-lease',
  'after-create-worker',
  'after-record-instance',
  'after-associate',
  'after-start-agent',
  'after-record-agent',
  'after-mark-running',
  'after-mark-destroying',
  'after-stop-agent',
  'after-delete-worker',
  'after-mark-destroyed',
  'after-delete-orphan',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export function faultPoint(name: FaultPoint, env: NodeJS.ProcessEnv = process.env): void {
  if (env.MVM_FAULT_POINT !== name) return;
  process.stderr.write(`mvm factory: fault point ${name} reached: killing myself\n`);
  process.kill(process.pid, 'SIGKILL');
}
