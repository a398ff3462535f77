// The login page: a token, checked by asking the API who it is; kept for this tab only.
import { useState } from 'preact/hooks';
import { loginReason, setToken, whoami, ApiError } from '../api.js';
import { useSignal } from '../store.js';

export function Login() {
  const reason = useSignal(loginReason);
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  // shows its own errors on the page, so the event handler need not wait for it
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = value.trim();
    if (!t) {
      loginReason.value = 'Paste a token first.';
      return;
    }
    setBusy(true);
    setToken(t);
    try {
      await whoami();
      loginReason.value = null;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) loginReason.value = (err as Error).message;
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="center" id="main">
      <form class="card login" onSubmit={(e) => void submit(e)} data-testid="login">
        <h1>mvm</h1>
        <p class="muted">Fleet and lab dashboard. Log in with an API token of the fleet daemon.</p>
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          autoFocus
        />
        {reason && (
          <p class="error" role="alert">
            {reason}
          </p>
        )}
        <button class="btn btn-primary" type="submit" disabled={busy}>
          Log in
        </button>
        <p class="muted small">
          The admin token is in the fleet's data folder (<code>fleet-api-admin-token</code>); <code>mvm demo</code>{' '}
          prints one.
        </p>
      </form>
    </main>
  );
}
