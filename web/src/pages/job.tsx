// One job: its tasks, its log following new events as they arrive (the job server's long-poll
// events, through the proxy), its outputs to download, and cancel.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc, listOf, token } from '../api.js';
import { when } from '../format.js';
import { Action } from '../ui/action.js';
import { Badge, ErrorLine, Section, Show } from '../ui/parts.js';
import { useApi } from '../ui/use-api.js';
import type { Job, JobEvent } from '../types.js';

interface Output {
  id: string;
  path: string;
  size: number;
}

/** Follows a job's events until it completes: each answer is what arrived since the last. */
function useJobLog(id: string, onComplete: () => void): { lines: JobEvent[]; error: Error | null; following: boolean } {
  const [lines, setLines] = useState<JobEvent[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const [following, setFollowing] = useState(true);
  const done = useRef(onComplete);
  done.current = onComplete;
  useEffect(() => {
    const ctl = new AbortController();
    setLines([]);
    void (async () => {
      let next = 0;
      let delay = 500;
      while (!ctl.signal.aborted) {
        try {
          const evs = await api<JobEvent[]>(`/api/jobs/0/jobs/${enc(id)}/events?minseq=${next}&wait_ms=20000`, {
            signal: ctl.signal,
          });
          delay = 500;
          setError(null);
          if (evs.length) {
            next = evs[evs.length - 1].seq + 1;
            setLines((old) => [...old, ...evs]);
            continue;
          }
          const job = await api<Job>(`/api/jobs/0/job/${enc(id)}`, { signal: ctl.signal });
          if (['completed', 'failed'].includes(job.state)) {
            // one last read: events written just before completion
            const tail = await api<JobEvent[]>(`/api/jobs/0/jobs/${enc(id)}/events?minseq=${next}`, {
              signal: ctl.signal,
            });
            if (tail.length) setLines((old) => [...old, ...tail]);
            setFollowing(false);
            done.current();
            return;
          }
        } catch (e) {
          if (ctl.signal.aborted) return;
          setError(e as Error);
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 10_000);
        }
      }
    })();
    return () => ctl.abort();
  }, [id]);
  return { lines, error, following };
}

async function download(jobId: string, o: Output): Promise<void> {
  const res = await fetch(`/api/jobs/0/jobs/${enc(jobId)}/outputs/${enc(o.id)}`, {
    headers: { authorization: `Bearer ${token.value}` },
  });
  if (!res.ok) throw new Error(`${res.status}: ${await res.text()}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = o.path.split('/').pop() || o.id;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function JobPage(props: { id: string }) {
  const job = useApi<Job>(`/api/jobs/0/job/${enc(props.id)}`);
  const outputs = useApi<unknown>(`/api/jobs/0/jobs/${enc(props.id)}/outputs`);
  const log = useJobLog(props.id, () => (job.reload(), outputs.reload()));
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const el = pre.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [log.lines.length]);
  return (
    <>
      <p>
        <a href="/jobs">← Jobs</a>
      </p>
      <Show l={job} what="job">
        {(j) => (
          <>
            <h1>{j.name}</h1>
            <Section title="Job" actions={<Badge kind={j.state} />}>
              <p class="mono small">{j.id}</p>
              <p>
                target {j.target} · owner {j.owner} · submitted {when(j.times?.submit)}
                {j.times?.complete && ` · done ${when(j.times.complete)}`}
              </p>
              <ol class="tasks">
                {(j.tasks ?? []).map((t) => (
                  <li>
                    {t.name} <Badge kind={t.state} />
                  </li>
                ))}
              </ol>
              {!['completed', 'failed'].includes(j.state) && (
                <Action
                  label="Cancel job"
                  kind="danger"
                  testId="cancel-job"
                  confirm={`Cancel job ${j.name}?`}
                  run={() => api(`/api/jobs/0/jobs/${enc(j.id)}/cancel`, { method: 'POST' })}
                  done={job.reload}
                />
              )}
            </Section>
          </>
        )}
      </Show>
      <Section title={log.following ? 'Log (following)' : 'Log'}>
        <ErrorLine error={log.error} what="log" />
        <pre
          class="log"
          ref={pre}
          data-testid="job-log"
          data-lines={log.lines.length}
          tabIndex={0}
          aria-label="job log"
        >
          {log.lines.map((e) => (
            <div class={`line stream-${e.stream}`} key={e.seq}>
              {e.payload}
            </div>
          ))}
        </pre>
      </Section>
      <Section title="Outputs">
        <Show l={outputs} what="outputs">
          {(d) => {
            const list = listOf<Output>(d, 'outputs');
            if (list.length === 0) return <p class="muted">No outputs (yet).</p>;
            return (
              <ul data-testid="outputs">
                {list.map((o) => (
                  <li>
                    <button type="button" class="btn linklike" onClick={() => void download(props.id, o)}>
                      {o.path}
                    </button>{' '}
                    <span class="muted small">{o.size} B</span>
                  </li>
                ))}
              </ul>
            );
          }}
        </Show>
      </Section>
    </>
  );
}
