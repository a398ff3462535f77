// Bounds on every field of a submitted job. Without them one user could store jobs whose listing
// no longer fits in a response (15 MiB names made GET /1/jobs answer 500) or whose environment
// no longer fits in exec (E2BIG). Each refusal is a 400 that names the field and the limit.
import type { JobSubmit } from '../../shared/api/types.js';
import { badRequest } from '../http/errors.js';
import { JOB_LIMITS } from '../../shared/job-limits.js';

export { JOB_LIMITS };

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function atMost(what: string, size: number, limit: number, unit = 'bytes'): void {
  if (size > limit) throw badRequest(`${what} is ${size} ${unit}; the limit is ${limit} ${unit}`, 'LimitExceeded');
}

/** Throws a 400 naming the first field over its limit. */
export function checkJobLimits(body: JobSubmit): void {
  const L = JOB_LIMITS;
  atMost('the job name', bytes(body.name), L.nameBytes);
  atMost('the target name', bytes(body.target), L.targetBytes);
  atMost('the number of tasks', body.tasks.length, L.tasks, 'tasks');
  atMost('the number of output rules', body.output_rules.length, L.outputRules, 'rules');
  body.output_rules.forEach((r, i) => atMost(`output rule ${i}`, bytes(r), L.outputRuleBytes));
  atMost('the number of inputs', (body.inputs ?? []).length, L.inputs, 'inputs');
  let total = 0;
  body.tasks.forEach((t, i) => {
    const where = `task ${i}`;
    atMost(`${where}: the name`, bytes(t.name), L.taskNameBytes);
    const script = bytes(t.script);
    atMost(`${where}: the script`, script, L.scriptBytes);
    if (t.workdir != null) atMost(`${where}: workdir`, bytes(t.workdir), L.workdirBytes);
    const env = Object.entries(t.env ?? {});
    atMost(`${where}: env`, env.length, L.envEntries, 'entries');
    let envBytes = 0;
    for (const [k, v] of env) {
      const key = JSON.stringify(k.slice(0, 40));
      atMost(`${where}: the name of env ${key}`, bytes(k), L.envKeyBytes);
      atMost(`${where}: env ${key}`, bytes(v), L.envValueBytes);
      envBytes += bytes(k) + bytes(v) + 2;
    }
    atMost(`${where}: env in all`, envBytes, L.envBytesPerTask);
    total += script + envBytes;
  });
  atMost('the scripts and environments of all tasks', total, L.jobBytes);
}
