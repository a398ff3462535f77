// The job server's jobs (through the fleet daemon's /api/jobs proxy), newest first.
import { enc, upstreams } from '../api.js';
import { ulidTime } from '../../../shared/ulid-time.js';
import { ago } from '../format.js';
import { useLive } from '../live.js';
import { Badge, NotConfigured, Section } from '../ui/parts.js';
import { ListTable } from '../ui/table.js';
import { OWN_JOBS_NOTE, useJobList } from '../ui/job-list.js';
import type { Job } from '../types.js';

export function Jobs() {
  const configured = !!upstreams.value?.jobs;
  const { l, ownOnly } = useJobList(200);
  useLive(l.reload, () => configured, 5000);
  if (!configured)
    return (
      <>
        <h1>Jobs</h1>
        <NotConfigured what="the job server" section="jobs" />
      </>
    );
  return (
    <>
      <h1>Jobs</h1>
      <Section
        title="Recent jobs"
        actions={
          <button class="btn" onClick={l.reload}>
            Refresh
          </button>
        }
      >
        {ownOnly && (
          <p class="muted small" data-testid="own-jobs-only">
            {OWN_JOBS_NOTE}
          </p>
        )}
        <ListTable<Job>
          l={l}
          what="jobs"
          listKeys={['items', 'jobs']}
          empty="No jobs yet."
          testId="jobs"
          columns={['Job', 'State', 'Target', { label: 'Owner', hideSm: true }, { label: 'Submitted', hideSm: true }]}
          row={(j) => (
            <tr key={j.id} data-job={j.id}>
              <th scope="row">
                <a href={`/jobs/${enc(j.id)}`}>{j.name}</a>
                <div class="muted small mono">{j.id}</div>
              </th>
              <td>
                <Badge kind={j.state} />
              </td>
              <td>{j.target}</td>
              <td class="hide-sm">{j.owner}</td>
              {/* The job list carries no times: a job's id (a ULID) says when it was submitted. */}
              <td class="hide-sm">
                {ago(j.times?.submit ?? (j as { time_submit?: string }).time_submit ?? ulidTime(j.id))}
              </td>
            </tr>
          )}
        />
      </Section>
    </>
  );
}
