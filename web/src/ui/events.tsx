// A list of fleet events (newest first), linking each to its miner.
import type { FleetEvent } from '../types.js';
import { ago, when } from '../format.js';
import { Badge } from './parts.js';

export function EventList(props: { events: FleetEvent[]; showMiner?: boolean }) {
  if (props.events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <ul class="events" data-testid="events">
      {props.events.map((e) => (
        <li class={`event level-${e.level}`} key={e.id}>
          <time dateTime={e.at} title={when(e.at)}>
            {ago(e.at)}
          </time>
          <Badge kind={e.kind} />
          {props.showMiner !== false && e.minerId && (
            <a href={`/miners/${encodeURIComponent(e.minerId)}`}>{e.minerId}</a>
          )}
          <span class="msg">{e.message}</span>
          {e.actor && <span class="muted small"> — {e.actor}</span>}
        </li>
      ))}
    </ul>
  );
}
