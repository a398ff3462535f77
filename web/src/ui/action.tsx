// An action button: only for tokens that may act, disabled while the API answers, and the API's
// refusal text shown beside it (role=alert), never a silent failure.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { canAct, me } from '../api.js';
import { useSignal } from '../store.js';

export function Action(props: {
  label: ComponentChildren;
  run: () => Promise<unknown>;
  done?: (result: unknown) => void;
  confirm?: string;
  kind?: 'primary' | 'danger' | 'plain';
  testId?: string;
  disabled?: boolean;
}) {
  useSignal(me);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState(false);
  if (!canAct()) return null;
  // shows its own errors on the page, so the event handler need not wait for it
  const click = async () => {
    if (props.confirm && !window.confirm(props.confirm)) return;
    setBusy(true);
    setError(null);
    setOk(false);
    try {
      const r = await props.run();
      setOk(true);
      props.done?.(r);
    } catch (e) {
      const err = e as Error & { hint?: string };
      setError(err.hint ? `${err.message} — ${err.hint}` : err.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button
        type="button"
        class={`btn btn-${props.kind ?? 'plain'}`}
        onClick={() => void click()}
        disabled={busy || props.disabled}
        data-testid={props.testId}
        data-action
      >
        {busy ? '…' : props.label}
      </button>
      {error && (
        <span class="error refusal" role="alert">
          {error}
        </span>
      )}
      {ok && !error && (
        <span class="ok" aria-live="polite">
          done
        </span>
      )}
    </span>
  );
}

/** Wraps a form of actions: hidden entirely from read-only tokens. */
export function IfCanAct(props: { children: ComponentChildren }) {
  useSignal(me);
  return canAct() ? <>{props.children}</> : null;
}
