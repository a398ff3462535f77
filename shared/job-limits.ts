// The bounds on a job's fields that the job server enforces (server/model/job-limits.ts); the CLI
// checks local files against them before sending.
export const JOB_LIMITS = {
  nameBytes: 256,
  targetBytes: 256,
  tasks: 100,
  taskNameBytes: 256,
  scriptBytes: 256 * 1024,
  /** All scripts and environments of the job together. */
  jobBytes: 1024 * 1024,
  envEntries: 256,
  envKeyBytes: 256,
  /** Linux refuses a single environment string over 128 KiB (MAX_ARG_STRLEN). */
  envValueBytes: 64 * 1024,
  envBytesPerTask: 256 * 1024,
  workdirBytes: 1024,
  outputRules: 100,
  outputRuleBytes: 1024,
  inputs: 100,
} as const;
