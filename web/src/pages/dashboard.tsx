// The dashboard: the fleet's numbers, prices and today's cost, recent events; the lab's testbeds
// by state and health, queued and running jobs. Live: re-read when the fleet says something changed.
import { hasApi, ifApi, listOf, upstreams } from '../api.js';
import { hashrate, jth, money, pence, priceOf, today, watts, ago } from '../format.js';
import { useLive } from '../live.js';
import { EventList } from '../ui/events.js';
import { Section, Show, Stat, ErrorLine, NotConfigured } from '../ui/parts.js';
import { OWN_JOBS_NOTE, useJobList } from '../ui/job-list.js';
import { useApi } from '../ui/use-api.js';
import { labsConfigured, testbedsUrl } from '../labs.js';
import { Unreachable } from './testbeds.js';
import type { FleetEvent, FleetStats, Job, LabStatus, Testbed } from '../types.js';

function counts<T>(items: T[], key: (t: T) => string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

function Counts(props: { title: string; items: Array<[string, number]>; testId: string }) {
  return (
    <div class="counts" data-testid={props.testId}>
      <h3>{props.title}</h3>
      {props.items.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <dl>
          {props.items.map(([k, n]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd data-key={k}>{n}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}

export function Dashboard() {
  const stats = useApi<FleetStats>('/api/dashboard/stats');
  const current = useApi<unknown>(ifApi('/api/dashboard/energy/current'));
  const next = useApi<unknown>(ifApi('/api/dashboard/energy/next'));
  const cost = useApi<Record<string, unknown>>(ifApi('/api/dashboard/energy/cost'));
  const events = useApi<unknown>('/api/dashboard/events/recent?limit=15');
  const up = upstreams.value;
  const testbeds = useApi<unknown>(labsConfigured() ? testbedsUrl() : null);
  const { l: jobs, ownOnly: ownJobsOnly } = useJobList(500);
  useLive(() => {
    stats.reload();
    events.reload();
  });
  useLive(
    () => {
      current.reload();
      next.reload();
      cost.reload();
    },
    (m) => m.type === 'price' || (m.data as { kind?: string })?.kind === 'price',
    5000,
  );
  const todayCost = today(cost.data)?.cost;
  return (
    <>
      <h1>Dashboard</h1>
      <Section title="Fleet">
        <Show l={stats} what="fleet stats">
          {(s) => (
            <div class="stats" data-testid="fleet-stats">
              <Stat
                label="Hashrate"
                value={
                  <span data-value={s.hashrateGhs} data-testid="stat-hashrate">
                    {hashrate(s.hashrateGhs)}
                  </span>
                }
                sub={`expected ${hashrate(s.expectedHashrateGhs)}`}
              />
              <Stat
                label="Power"
                value={
                  <span data-value={s.powerW} data-testid="stat-power">
                    {watts(s.powerW)}
                  </span>
                }
              />
              <Stat
                label="Efficiency"
                value={
                  <span data-value={s.efficiencyJth ?? ''} data-testid="stat-efficiency">
                    {jth(s.efficiencyJth)}
                  </span>
                }
              />
              <Stat
                label="Online"
                value={
                  <span data-value={s.online} data-testid="stat-online">
                    {s.online} / {s.miners}
                  </span>
                }
                sub={
                  <span data-value={s.offline} data-testid="stat-offline">
                    {s.offline} offline{s.unknown ? `, ${s.unknown} unknown` : ''}
                  </span>
                }
              />
            </div>
          )}
        </Show>
      </Section>
      {hasApi('/api/dashboard/energy/current') && (
        <Section title="Energy">
          <div class="stats">
            <Stat label="Price now" value={current.error ? '—' : pence(priceOf(current.data))} testId="price-now" />
            <Stat label="Next slot" value={next.error ? '—' : pence(priceOf(next.data))} testId="price-next" />
            <Stat
              label="Cost today"
              value={typeof todayCost === 'number' ? money(todayCost) : '—'}
              testId="cost-today"
            />
          </div>
          {current.error && <p class="muted small">Prices: {current.error.message}</p>}
        </Section>
      )}
      <div class="grid2">
        <Section title="Lab: testbeds">
          {!labsConfigured() ? (
            <NotConfigured what="the factory API" section="lab" />
          ) : testbeds.error ? (
            <ErrorLine error={testbeds.error} what="testbeds" />
          ) : (
            <>
              <Unreachable labs={listOf<LabStatus>(testbeds.data, 'labs')} />
              <div class="grid2">
                <Counts
                  title="By state"
                  items={counts(listOf<Testbed>(testbeds.data, 'testbeds'), (t) => t.state)}
                  testId="testbeds-by-state"
                />
                <Counts
                  title="By health"
                  items={counts(listOf<Testbed>(testbeds.data, 'testbeds'), (t) => t.health)}
                  testId="testbeds-by-health"
                />
              </div>
            </>
          )}
        </Section>
        <Section title="Lab: jobs">
          {!up?.jobs ? (
            <NotConfigured what="the job server" section="jobs" />
          ) : jobs.error ? (
            <ErrorLine error={jobs.error} what="jobs" />
          ) : (
            <>
              <JobCounts jobs={listOf<Job>(jobs.data, 'items')} />
              {ownJobsOnly && (
                <p class="muted small" data-testid="own-jobs-only">
                  {OWN_JOBS_NOTE}
                </p>
              )}
            </>
          )}
        </Section>
      </div>
      <Section title="Recent events" actions={<a href="/miners">all miners →</a>}>
        <Show l={events} what="events">
          {(d) => <EventList events={listOf<FleetEvent>(d, 'events')} />}
        </Show>
        {stats.data && <p class="muted small">as of {ago(stats.data.at)}</p>}
      </Section>
    </>
  );
}

function JobCounts(props: { jobs: Job[] }) {
  const by = (s: string) => props.jobs.filter((j) => j.state === s).length;
  return (
    <div class="stats" data-testid="job-counts">
      <Stat
        label="Queued"
        value={<span data-value={by('queued') + by('waiting')}>{by('queued') + by('waiting')}</span>}
        testId="jobs-queued"
      />
      <Stat label="Running" value={<span data-value={by('running')}>{by('running')}</span>} testId="jobs-running" />
      <Stat label="Failed (recent)" value={by('failed')} />
    </div>
  );
}
