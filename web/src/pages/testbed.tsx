// One testbed: its devices, health, who holds it, reservation controls and its recent history.
import { enc, listOf } from '../api.js';
import { labBase, labNames, parseRef, testbedsUrl } from '../labs.js';
import { ago, when } from '../format.js';
import { Badge, Section, Show } from '../ui/parts.js';
import { useApi } from '../ui/use-api.js';
import type { Testbed } from '../types.js';
import { holder, ReserveControls } from './testbeds.js';

interface History {
  events: Array<{ at: string; kind: string; message: string; instance: string | null }>;
  instances: Array<{ id: string; job?: string | null; state: string; created_at?: string }>;
}

/** props.name is NAME or NAME@LAB; a plain NAME with several labs is looked up in the listing of all. */
export function TestbedPage(props: { name: string }) {
  const ref = parseRef(props.name);
  const labs = labNames();
  const known = labs.includes(ref.lab ?? '') ? ref.lab : labs.length === 1 ? labs[0] : undefined;
  const all = useApi<unknown>(known === undefined && labs.length > 1 ? testbedsUrl() : null);
  const found = listOf<Testbed>(all.data, 'testbeds').find((t) => t.ref === props.name || t.name === props.name);
  const lab = known ?? found?.lab;
  const name = known !== undefined ? ref.name : (found?.name ?? props.name);
  const ready = labs.length <= 1 || lab !== undefined;
  const base = `${labBase(lab)}/v1/testbeds/${enc(name)}`;
  return ready ? (
    <TestbedView name={name} lab={lab} title={props.name} base={base} />
  ) : (
    <p class="muted">Looking for {props.name} in every lab…</p>
  );
}

function TestbedView(props: { name: string; lab: string | undefined; title: string; base: string }) {
  const tb = useApi<Testbed>(props.base);
  const hist = useApi<History>(`${props.base}/history?limit=50`);
  return (
    <>
      <p>
        <a href="/testbeds">← Testbeds</a>
      </p>
      <h1>{props.title}</h1>
      {props.lab && labNames().length > 1 && <p class="muted">Lab {props.lab}</p>}
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
            <ReserveControls
              name={t.name}
              {...(props.lab ? { lab: props.lab } : {})}
              reserved={t.lock?.kind === 'reservation'}
              onDone={tb.reload}
            />
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
