// The job server's jobs (through the fleet daemon's /api/jobs proxy), newest first.
import { ApiError, enc, listOf, upstreams } from '../api.js';
import { ago } from '../format.js';
import { useLive } from '../live.js';
import { Badge, NotConfigured, Section, Show } from '../ui/parts.js';
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
        <Show l={l} what="jobs">
          {(d) => {
            const list = listOf<Job>(d, 'items', 'jobs');
            if (list.length === 0) return <p class="muted">No jobs yet.</p>;
            return (
              <div class="table-wrap">
                <table data-testid="jobs">
                  <thead>
                    <tr>
                      <th scope="col">Job</th>
                      <th scope="col">State</th>
                      <th scope="col">Target</th>
                      <th scope="col" class="hide-sm">
                        Owner
                      </th>
                      <th scope="col" class="hide-sm">
                        Submitted
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((j) => (
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
                        <td class="hide-sm">{ago(j.times?.submit ?? (j as { time_submit?: string }).time_submit)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            );
          }}
        </Show>
      </Section>
    </>
  );
}
