// The app: login when there is no (valid) token, else the shell with its pages.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, loadApiPaths, loadUpstreams, loginReason, me, setToken, token, upstreams, whoami } from './api.js';
import { connectLive, disconnectLive } from './live.js';
import { path, startRouter } from './router.js';
import { useSignal } from './store.js';
import { Shell } from './shell.js';
import { Login } from './pages/login.js';
import { applyTheme } from './theme.js';
import 'uplot/dist/uPlot.min.css';
import './style.css';

function App() {
  const t = useSignal(token);
  const who = useSignal(me);
  const up = useSignal(upstreams);
  const [error, setError] = useState<Error | null>(null);
  useSignal(path);
  useEffect(() => {
    if (!t) {
      disconnectLive();
      return;
    }
    setError(null);
    whoami().then(
      () => {
        connectLive();
        void loadApiPaths().then(loadUpstreams);
      },
      (e: Error) => {
        if (!(e instanceof ApiError && e.status === 401)) setError(e);
      },
    );
  }, [t]);
  if (!t) return <Login />;
  if (!who || !up)
    return (
      <main class="center">
        {error ? (
          <div class="card">
            <p class="error" role="alert">
              The fleet API did not answer: {error.message}
            </p>
            <button class="btn" onClick={() => setToken(null)}>
              Log out
            </button>
          </div>
        ) : (
          <p class="muted">Connecting…</p>
        )}
      </main>
    );
  return <Shell />;
}

applyTheme();
startRouter();
loginReason.value = null;
render(<App />, document.getElementById('app')!);
