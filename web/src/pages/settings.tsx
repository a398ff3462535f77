// Settings: who this session is, the daemon's tokens, price source, MQTT and retention as the
// daemon runs them (GET /api/settings; they are changed in the config file and reloaded), and the
// theme of this browser.
import { useState } from 'preact/hooks';
import { api, enc, hasApi, ifApi, listOf, me } from '../api.js';
import { Action, IfCanAct } from '../ui/action.js';
import { useSignal } from '../store.js';
import { applyTheme, currentTheme, type Theme } from '../theme.js';
import { Section, Show } from '../ui/parts.js';
import { useApi } from '../ui/use-api.js';

function Value(props: { v: unknown }) {
  const v = props.v;
  if (v == null) return <span class="muted">—</span>;
  if (Array.isArray(v))
    return <>{v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ') || '—'}</>;
  if (typeof v === 'object') return <Fields o={v as Record<string, unknown>} />;
  return <>{String(v)}</>;
}

function Fields(props: { o: Record<string, unknown> }) {
  return (
    <dl class="fields">
      {Object.entries(props.o).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>
            <Value v={v} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

interface TokenInfo {
  name: string;
  role?: string;
  createdAt?: string;
}

/** The API's tokens (administrators only): make one (shown once), revoke one. */
function Tokens(props: { list: TokenInfo[]; reload(): void; shown: boolean }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState('read');
  const [made, setMade] = useState<string | null>(null);
  if (!props.shown) return null;
  return (
    <Section title="Tokens">
      <ul data-testid="tokens">
        <li>admin (the daemon's admin token)</li>
        {props.list.map((t) => (
          <li>
            {t.name} · {t.role ?? '?'}{' '}
            <Action
              label="Revoke"
              kind="danger"
              confirm={`Revoke token ${t.name}?`}
              run={() => api(`/api/tokens/${enc(t.name)}`, { method: 'DELETE' })}
              done={props.reload}
            />
          </li>
        ))}
      </ul>
      <IfCanAct>
        <form class="inline" onSubmit={(e) => e.preventDefault()}>
          <label for="token-name">New token</label>
          <input
            id="token-name"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
            placeholder="name"
          />
          <select aria-label="Role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            <option value="read">read-only</option>
            <option value="admin">admin</option>
          </select>
          <Action
            label="Make token"
            run={() => api<{ token: string }>('/api/tokens', { method: 'POST', body: { name, role } })}
            done={(r) => (setMade((r as { token: string }).token), props.reload())}
          />
        </form>
        {made && (
          <p>
            The new token (shown once): <code data-testid="new-token">{made}</code>
          </p>
        )}
      </IfCanAct>
    </Section>
  );
}

export function Settings() {
  const who = useSignal(me);
  const settings = useApi<Record<string, unknown>>(ifApi('/api/settings'));
  // the token list is for administrators (a read-only token would be refused)
  const tokenList = useApi<unknown>(who?.admin ? ifApi('/api/tokens') : null);
  const [theme, setTheme] = useState<Theme>(currentTheme());
  return (
    <>
      <h1>Settings</h1>
      <Section title="This session">
        <p data-testid="session">
          Logged in as <strong>{who?.name}</strong> {who?.admin ? '(administrator)' : ''}{' '}
          {who?.readOnly ? '(read-only: no actions)' : ''}. The token is kept in this tab only.
        </p>
        <fieldset class="seg">
          <legend>Theme</legend>
          {(['auto', 'light', 'dark'] as Theme[]).map((t) => (
            <label class="check">
              <input type="radio" name="theme" checked={theme === t} onChange={() => (applyTheme(t), setTheme(t))} />{' '}
              {t}
            </label>
          ))}
        </fieldset>
      </Section>
      <Tokens
        list={listOf<TokenInfo>(tokenList.data, 'tokens')}
        reload={tokenList.reload}
        shown={!!who?.admin && hasApi('/api/tokens')}
      />
      {hasApi('/api/settings') ? (
        <Show l={settings} what="settings">
          {(s) => {
            const {
              prices,
              mqtt,
              retention,
              tokens: _tokens,
              ...rest
            } = s as { tokens?: unknown; prices?: unknown; mqtt?: unknown; retention?: unknown };
            return (
              <>
                <Section title="Price source">
                  <Value v={prices} />
                </Section>
                <Section title="MQTT">
                  <Value v={mqtt} />
                </Section>
                <Section title="Retention">
                  <Value v={retention} />
                </Section>
                {Object.keys(rest).length > 0 && (
                  <Section title="Other">
                    <Fields o={rest} />
                  </Section>
                )}
              </>
            );
          }}
        </Show>
      ) : (
        <p class="muted">
          This fleet daemon does not report its price source, MQTT and retention settings (see its config file).
        </p>
      )}
      <p class="muted small">Settings are changed in the fleet config file; the daemon reloads it on SIGHUP.</p>
    </>
  );
}
