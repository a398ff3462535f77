// One testbed: its devices, health, who holds it, reservation controls and its recent history.
import { enc } from '../api.js';
import { ago, when } from '../format.js';
import { Badge, Section, Show } from '../ui/parts.js';
import { useApi } from '../ui/use-api.js';
import type { Testbed } from '../types.js';
import { holder, ReserveControls } from './testbeds.js';

interface History {
  events: Array<{ at: string; kind: string; message: string; instance: string | null }>;
  instances: Array<{ id: string; job?: string | null; state: string; created_at?: string }>;
}

export function TestbedPage(props: { name: string }) {
  const tb = useApi<Testbed>(`/api/lab/v1/testbeds/${enc(props.name)}`);
  const hist = useApi<History>(`/api/lab/v1/testbeds/${enc(props.name)}/history?limit=50`);
  return (
    <>
      <p>
        <a href="/testbeds">← Testbeds</a>
      </p>
      <h1>{props.name}</h1>
      <Show l={tb} what="testbed">
        {(t) => (
          <Section title="Now" actions={<Badge kind={t.state} />}>
            <p>
              Health <Badge kind={t.health} /> {t.health_reason} · last check {ago(t.last_check_at)} · next{' '}
              {ago(t.next_check_at)}
            </p>
            <p>Held by: {holder(t) || 'nobody'}</p>
            {t.instance && (
              <p>
                Running job <a href={`/jobs/${enc(t.instance.job ?? '')}`}>{t.instance.job}</a> ({t.instance.state})
              </p>
            )}
            {t.blockers.length > 0 && (
              <ul>
                {t.blockers.map((b) => (
                  <li>
                    <Badge kind={b.kind} /> {b.message}
                  </li>
                ))}
              </ul>
            )}
            <h3>Devices</h3>
            <ul>
              {t.devices.map((d) => (
                <li>
                  {d.name}: {d.driver} {d.hardware ?? ''} {d.address && <code>{d.address}</code>}
                </li>
              ))}
            </ul>
            <ReserveControls name={t.name} reserved={t.lock?.kind === 'reservation'} onDone={tb.reload} />
          </Section>
        )}
      </Show>
      <Section title="History">
        <Show l={hist} what="history">
          {(h) => (
            <ul class="events">
              {h.events.map((e) => (
                <li class="event">
                  <time dateTime={e.at}>{when(e.at)}</time> <Badge kind={e.kind} /> {e.message}
                </li>
              ))}
            </ul>
          )}
        </Show>
      </Section>
    </>
  );
}
