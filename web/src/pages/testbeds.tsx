// The lab's testbeds (through the fleet daemon's /api/lab proxy to the factory API): state, health,
// who holds each; reserve, renew and release with a TTL and a reason; and `why` for a target whose
// jobs wait.
import { useState } from 'preact/hooks';
import { api, enc, listOf, upstreams } from '../api.js';
import { ago } from '../format.js';
import { useLive } from '../live.js';
import { Action, IfCanAct } from '../ui/action.js';
import { Badge, NotConfigured, Section, Show } from '../ui/parts.js';
import { useApi } from '../ui/use-api.js';
import type { Blocker, Testbed } from '../types.js';

export function holder(t: Testbed): string {
  if (!t.lock) return '';
  return `${t.lock.kind} · ${t.lock.owner}${t.lock.expires_at ? ` · until ${new Date(t.lock.expires_at).toLocaleString()}` : ''}`;
}

export function ReserveControls(props: { name: string; reserved: boolean; onDone(): void }) {
  const [ttl, setTtl] = useState('1h');
  const [reason, setReason] = useState('');
  const url = `/api/lab/v1/testbeds/${enc(props.name)}/reservation`;
  return (
    <IfCanAct>
      <span class="reserve" data-testid={`reserve-${props.name}`}>
        <label class="sr-only" for={`ttl-${props.name}`}>
          TTL for {props.name}
        </label>
        <input
          id={`ttl-${props.name}`}
          class="short"
          value={ttl}
          onInput={(e) => setTtl((e.target as HTMLInputElement).value)}
          title="how long: 30m, 2h, 1d"
        />
        <label class="sr-only" for={`reason-${props.name}`}>
          Reason for {props.name}
        </label>
        <input
          id={`reason-${props.name}`}
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
            testId={`reserve-btn-${props.name}`}
            run={() => api(url, { method: 'POST', body: { ttl, ...(reason ? { reason } : {}) } })}
            done={props.onDone}
          />
        )}
      </span>
    </IfCanAct>
  );
}

export function Testbeds() {
  const configured = !!upstreams.value?.lab;
  const testbeds = useApi<unknown>(configured ? '/api/lab/v1/testbeds' : null);
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
        title="Lab"
        actions={
          <button class="btn" onClick={testbeds.reload}>
            Refresh
          </button>
        }
      >
        <Show l={testbeds} what="testbeds">
          {(d) => {
            const list = listOf<Testbed>(d, 'testbeds');
            if (list.length === 0) return <p class="muted">The factory has no testbeds.</p>;
            return (
              <div class="table-wrap">
                <table data-testid="testbeds">
                  <thead>
                    <tr>
                      <th scope="col">Testbed</th>
                      <th scope="col">State</th>
                      <th scope="col">Health</th>
                      <th scope="col">Held by</th>
                      <th scope="col">Reserve</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((t) => (
                      <tr key={t.name} data-testbed={t.name}>
                        <th scope="row">
                          <a href={`/testbeds/${enc(t.name)}`}>{t.name}</a>
                          <div class="muted small">{t.devices.map((x) => x.hardware ?? x.driver).join(', ')}</div>
                        </th>
                        <td>
                          <Badge kind={t.state} />
                        </td>
                        <td>
                          <Badge kind={t.health} />
                          {t.health_reason && <div class="muted small">{t.health_reason}</div>}
                        </td>
                        <td class="small" data-testid={`holder-${t.name}`}>
                          {holder(t) || '—'}
                        </td>
                        <td>
                          <ReserveControls
                            name={t.name}
                            reserved={t.lock?.kind === 'reservation'}
                            onDone={testbeds.reload}
                          />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
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

/** Why a target's jobs wait: which testbeds serve it and what keeps each from taking a job. */
function Why() {
  const [target, setTarget] = useState('');
  const [answer, setAnswer] = useState<Explanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  // shows its own errors on the page, so the event handler need not wait for it
  const ask = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      setAnswer(await api<Explanation>('/api/lab/v1/explain', { method: 'POST', body: { target } }));
    } catch (err) {
      setAnswer(null);
      setError((err as Error).message);
    }
  };
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
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {answer && (
        <div data-testid="why">
          <p>{answer.summary}</p>
          <ul>
            {answer.testbeds.map((t) => (
              <li>
                <a href={`/testbeds/${enc(t.name)}`}>{t.name}</a>:{' '}
                {t.free
                  ? 'free'
                  : t.reasons.map((r) => `${r.message}${r.until ? ` (until ${ago(r.until)})` : ''}`).join('; ')}
              </li>
            ))}
          </ul>
        </div>
      )}
    </Section>
  );
}
