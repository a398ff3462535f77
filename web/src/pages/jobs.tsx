// The job server's jobs (through the fleet daemon's /api/jobs proxy), newest first.
import { ApiError, enc, upstreams } from '../api.js';
import { ulidTime } from '../../../shared/ulid-time.js';
import { ago } from '../format.js';
import { useLive } from '../live.js';
import { Badge, NotConfigured, Section } from '../ui/parts.js';
import { ListTable } from '../ui/table.js';
import { useApi } from '../ui/use-api.js';
import type { Job } from '../types.js';

// once the job server refused the admin list (a token without the admin privilege), ask for its own jobs only
let ownJobsOnly = false;

export function Jobs() {
  // everyone's jobs when the fleet's job-server token is an administrator's, else that user's
  const configured = !!upstreams.value?.jobs;
  const all = useApi<unknown>(configured && !ownJobsOnly ? '/api/jobs/1/admin/jobs?recent_first=true&limit=200' : null);
  if (all.error instanceof ApiError && (all.error.status === 403 || all.error.status === 401)) ownJobsOnly = true;
  const fallback = ownJobsOnly;
  const mine = useApi<unknown>(fallback ? '/api/jobs/1/jobs?recent_first=true&limit=200' : null);
  const l = fallback ? mine : all;
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
