// Settings: who this session is, the daemon's tokens, price source, MQTT and retention as the
// daemon runs them (GET /api/settings; they are changed in the config file and reloaded), and the
// theme of this browser.
import { useState } from 'preact/hooks';
import { me } from '../api.js';
import { useSignal } from '../store.js';
import { applyTheme, currentTheme, type Theme } from '../theme.js';
import { Section, Show } from '../ui/parts.js';
import { useApi } from '../ui/use-api.js';

function Value(props: { v: unknown }) {
  const v = props.v;
  if (v == null) return <span class="muted">—</span>;
  if (Array.isArray(v)) return <>{v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ') || '—'}</>;
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
  admin?: boolean;
  readOnly?: boolean;
}

export function Settings() {
  const who = useSignal(me);
  const settings = useApi<Record<string, unknown>>('/api/settings');
  const [theme, setTheme] = useState<Theme>(currentTheme());
  return (
    <>
      <h1>Settings</h1>
      <Section title="This session">
        <p data-testid="session">
          Logged in as <strong>{who?.name}</strong> {who?.admin ? '(administrator)' : ''} {who?.readOnly ? '(read-only: no actions)' : ''}. The token is kept in this tab only.
        </p>
        <fieldset class="seg">
          <legend>Theme</legend>
          {(['auto', 'light', 'dark'] as Theme[]).map((t) => (
            <label class="check">
              <input type="radio" name="theme" checked={theme === t} onChange={() => (applyTheme(t), setTheme(t))} /> {t}
            </label>
          ))}
        </fieldset>
      </Section>
      <Show l={settings} what="settings">
        {(s) => {
          const { tokens, prices, mqtt, retention, ...rest } = s as { tokens?: TokenInfo[]; prices?: unknown; mqtt?: unknown; retention?: unknown };
          return (
            <>
              <Section title="Tokens">
                {tokens?.length ? (
                  <ul data-testid="tokens">
                    {tokens.map((t) => (
                      <li>
                        {t.name} {t.admin ? '· admin' : ''} {t.readOnly ? '· read-only' : ''}
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p class="muted">Only the admin token.</p>
                )}
              </Section>
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
      <p class="muted small">Settings are changed in the fleet config file; the daemon reloads it on SIGHUP.</p>
    </>
  );
}
