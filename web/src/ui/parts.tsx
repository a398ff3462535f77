// Small pieces every page uses: a stat card, an error line, a status badge, a loading line.
import type { ComponentChildren } from 'preact';
import type { Loaded } from './use-api.js';

export function Stat(props: { label: string; value: ComponentChildren; sub?: ComponentChildren; testId?: string }) {
  return (
    <div class="stat" data-testid={props.testId}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.sub !== undefined && <div class="stat-sub">{props.sub}</div>}
    </div>
  );
}

export function ErrorLine(props: { error: Error | null | undefined; what?: string }) {
  if (!props.error) return null;
  const hint = (props.error as { hint?: string }).hint;
  return (
    <p class="error" role="alert">
      {props.what ? `${props.what}: ` : ''}
      {props.error.message}
      {hint && <span class="hint"> — {hint}</span>}
    </p>
  );
}

/** Shows the loading/error state of `l`, else `children(data)`. */
export function Show<T>(props: { l: Loaded<T>; what: string; children: (d: T) => ComponentChildren }) {
  const { data, error } = props.l;
  if (data === undefined)
    return error ? <ErrorLine error={error} what={props.what} /> : <p class="muted">Loading {props.what}…</p>;
  return (
    <>
      {error && <ErrorLine error={error} what={`${props.what} (showing the last answer)`} />}
      {props.children(data)}
    </>
  );
}

export function Badge(props: { kind: string; children?: ComponentChildren }) {
  return <span class={`badge badge-${props.kind.replace(/[^a-z0-9-]/gi, '')}`}>{props.children ?? props.kind}</span>;
}

export function Section(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

/** Said where a lab page has no upstream: what to configure. */
export function NotConfigured(props: { what: string; section: string }) {
  return (
    <p class="muted" data-testid="not-configured">
      The fleet daemon does not reach {props.what}: set <code>[{props.section}] url</code> and <code>token</code> in its
      config.
    </p>
  );
}
