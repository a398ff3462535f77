// The job server's recent jobs, as the jobs page and the dashboard show them: everyone's when the
// fleet's [jobs] token is an administrator's, else (once the job server has refused the admin list)
// that user's own — said beside the list, so a short list is not taken for the whole lab's.
import { ApiError, upstreams } from '../api.js';
import { useApi, type Loaded } from './use-api.js';

// Remembered for the page's life: every page asks the way that works.
let ownJobsOnly = false;

export interface JobList {
  l: Loaded<unknown>;
  /** Only the token user's own jobs (the job server refused the admin list). */
  ownOnly: boolean;
}

export function useJobList(limit: number): JobList {
  const configured = !!upstreams.value?.jobs;
  const all = useApi<unknown>(
    configured && !ownJobsOnly ? `/api/jobs/1/admin/jobs?recent_first=true&limit=${limit}` : null,
  );
  if (all.error instanceof ApiError && (all.error.status === 403 || all.error.status === 401)) ownJobsOnly = true;
  const mine = useApi<unknown>(configured && ownJobsOnly ? `/api/jobs/1/jobs?recent_first=true&limit=${limit}` : null);
  return { l: ownJobsOnly ? mine : all, ownOnly: ownJobsOnly };
}

/** What a list of the user's own jobs says of itself. */
export const OWN_JOBS_NOTE =
  "The [jobs] token's own jobs only: give [jobs] a job-server token with the admin privilege to see every job.";
