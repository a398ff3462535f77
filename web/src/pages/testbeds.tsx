// Every lab's testbeds (the fleet daemon's GET /api/labs; each factory API through its proxy):
// state, health, who holds each, with a LAB column and filter when there are several labs and a
// line for a lab that does not answer; reserve, renew and release with a TTL and a reason; and
// `why` for a target whose jobs wait, asked of every lab.
import { useState } from 'preact/hooks';
import { api, enc, listOf } from '../api.js';
import { labBase, labNames, labsConfigured, testbedsUrl } from '../labs.js';
import { ago } from '../format.js';
import { useLive } from '../live.js';
import { Action, IfCanAct } from '../ui/action.js';
import { Badge, NotConfigured, Section, Show } from '../ui/parts.js';
import { DataTable } from '../ui/table.js';
import { useApi } from '../ui/use-api.js';
import type { Blocker, LabStatus, Testbed } from '../types.js';

export function holder(t: Testbed): string {
  if (!t.lock) return '';
  return `${t.lock.kind} · ${t.lock.owner}${t.lock.expires_at ? ` · until ${new Date(t.lock.expires_at).toLocaleString()}` : ''}`;
}

/** Where a testbed's page is: NAME@LAB whenever there are several labs, so the page knows which. */
export function testbedHref(t: { name: string; lab?: string }): string {
  return `/testbeds/${enc(t.lab && labNames().length > 1 ? `${t.name}@${t.lab}` : t.name)}`;
}

export function ReserveControls(props: {
  name: string;
  lab?: string;
  /** How the testbed is named on the page (NAME@LAB when the name repeats): labels and ids use it. */
  shown?: string;
  reserved: boolean;
  onDone(): void;
}) {
  const shown = props.shown ?? props.name;
  const [ttl, setTtl] = useState('1h');
  const [reason, setReason] = useState('');
  const url = `${labBase(props.lab)}/v1/testbeds/${enc(props.name)}/reservation`;
  return (
    <IfCanAct>
      <span class="reserve" data-testid={`reserve-${shown}`}>
        <label class="sr-only" for={`ttl-${shown}`}>
          TTL for {shown}
        </label>
        <input
          id={`ttl-${shown}`}
          class="short"
          value={ttl}
          onInput={(e) => setTtl((e.target as HTMLInputElement).value)}
          title="how long: 30m, 2h, 1d"
        />
        <label class="sr-only" for={`reason-${shown}`}>
          Reason for {shown}
        </label>
        <input
          id={`reason-${shown}`}
          value={reason}
          placeholder="reason"
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
        />
        {props.reserved ? (
          <>
            <Action
              label="Renew"
              run={() => api(url, { method: 'PUT', body: { ttl, ...(reason ? { reason } : {}) } })}
              done={props.onDone}
            />
            <Action label="Release" kind="danger" run={() => api(url, { method: 'DELETE' })} done={props.onDone} />
          </>
        ) : (
          <Action
            label="Reserve"
            kind="primary"
            testId={`reserve-btn-${shown}`}
            run={() => api(url, { method: 'POST', body: { ttl, ...(reason ? { reason } : {}) } })}
            done={props.onDone}
          />
        )}
      </span>
    </IfCanAct>
  );
}

/** The labs that did not answer the last listing: said, never hiding the others. */
export function Unreachable(props: { labs: LabStatus[] }) {
  const down = props.labs.filter((l) => l.reachable === false);
  if (down.length === 0) return null;
  return (
    <ul class="error" role="alert" data-testid="labs-unreachable">
      {down.map((l) => (
        <li data-lab={l.name}>
          Lab <strong>{l.name}</strong> ({l.url}) is unreachable: {l.error ?? 'no answer'}
        </li>
      ))}
    </ul>
  );
}

export function Testbeds() {
  const configured = labsConfigured();
  const labs = labNames();
  const several = labs.length > 1;
  const [filter, setFilter] = useState('');
  const testbeds = useApi<unknown>(configured ? testbedsUrl(filter || undefined) : null);
  useLive(testbeds.reload, () => configured, 5000);
  if (!configured)
    return (
      <>
        <h1>Testbeds</h1>
        <NotConfigured what="the factory API" section="lab" />
      </>
    );
  return (
    <>
      <h1>Testbeds</h1>
      <Section
        title={several ? 'Labs' : 'Lab'}
        actions={
          <>
            {several && (
              <span>
                <label for="lab-filter">Lab </label>
                <select
                  id="lab-filter"
                  data-testid="lab-filter"
                  value={filter}
                  onChange={(e) => setFilter((e.target as HTMLSelectElement).value)}
                >
                  <option value="">all</option>
                  {labs.map((l) => (
                    <option value={l}>{l}</option>
                  ))}
                </select>
              </span>
            )}
            <button class="btn" onClick={testbeds.reload}>
              Refresh
            </button>
          </>
        }
      >
        <Show l={testbeds} what="testbeds">
          {(d) => {
            const list = listOf<Testbed>(d, 'testbeds');
            const status = listOf<LabStatus>(d, 'labs');
            return (
              <>
                <Unreachable labs={status} />
                {list.length === 0 ? (
                  <p class="muted">
                    {status.some((l) => l.reachable === false)
                      ? 'No testbeds from the labs that answer.'
                      : 'The factory has no testbeds.'}
                  </p>
                ) : (
                  <DataTable
                    testId="testbeds"
                    columns={['Testbed', several && 'Lab', 'State', 'Health', 'Held by', 'Reserve']}
                  >
                    {list.map((t) => {
                      const ref = t.ref ?? t.name;
                      return (
                        <tr key={`${t.lab ?? ''}/${t.name}`} data-testbed={ref} data-lab={t.lab}>
                          <th scope="row">
                            <a href={testbedHref(t)}>{ref}</a>
                            <div class="muted small">{t.devices.map((x) => x.hardware ?? x.driver).join(', ')}</div>
                          </th>
                          {several && <td data-testid={`lab-${ref}`}>{t.lab}</td>}
                          <td>
                            <Badge kind={t.state} />
                          </td>
                          <td>
                            <Badge kind={t.health} />
                            {t.health_reason && <div class="muted small">{t.health_reason}</div>}
                          </td>
                          <td class="small" data-testid={`holder-${ref}`}>
                            {holder(t) || '—'}
                          </td>
                          <td>
                            <ReserveControls
                              name={t.name}
                              shown={ref}
                              {...(t.lab ? { lab: t.lab } : {})}
                              reserved={t.lock?.kind === 'reservation'}
                              onDone={testbeds.reload}
                            />
                          </td>
                        </tr>
                      );
                    })}
                  </DataTable>
                )}
              </>
            );
          }}
        </Show>
      </Section>
      <Why />
    </>
  );
}

interface Explanation {
  target: string;
  served: boolean;
  summary: string;
  testbeds: Array<{ name: string; serves: boolean; free: boolean; reasons: Blocker[] }>;
}

/** Why a target's jobs wait: which testbeds serve it and what keeps each from taking a job — in every lab. */
function Why() {
  const [target, setTarget] = useState('');
  const [answers, setAnswers] = useState<Array<{ lab: string | undefined; answer?: Explanation; error?: string }>>([]);
  // shows its own errors on the page, so the event handler need not wait for it
  const ask = async (e: Event) => {
    e.preventDefault();
    const labs: Array<string | undefined> = labNames().length > 0 ? labNames() : [undefined];
    setAnswers(
      await Promise.all(
        labs.map(async (lab) => {
          try {
            return {
              lab,
              answer: await api<Explanation>(`${labBase(lab)}/v1/explain`, { method: 'POST', body: { target } }),
            };
          } catch (err) {
            return { lab, error: (err as Error).message };
          }
        }),
      ),
    );
  };
  const several = answers.length > 1;
  return (
    <Section title="Why is a job waiting?">
      <form class="inline" onSubmit={(e) => void ask(e)}>
        <label for="why-target">Target</label>
        <input
          id="why-target"
          value={target}
          onInput={(e) => setTarget((e.target as HTMLInputElement).value)}
          placeholder="bitaxe-601"
        />
        <button class="btn" type="submit">
          Explain
        </button>
      </form>
      {answers.map(({ lab, answer, error }) => (
        <div data-testid="why" data-lab={lab}>
          {several && <h3>Lab {lab}</h3>}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          {answer && (
            <>
              <p>{answer.summary}</p>
              <ul>
                {answer.testbeds.map((t) => (
                  <li>
                    <a href={testbedHref({ name: t.name, ...(lab ? { lab } : {}) })}>{t.name}</a>:{' '}
                    {t.free
                      ? 'free'
                      : t.reasons.map((r) => `${r.message}${r.until ? ` (until ${ago(r.until)})` : ''}`).join('; ')}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      ))}
    </Section>
  );
}
