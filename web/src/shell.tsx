// The frame around every page: navigation (a drawer on phones), who is logged in, live status,
// theme and logout; and the page for the current address.
import { useEffect, useRef, useState } from 'preact/hooks';
import { me, setToken } from './api.js';
import { liveStatus } from './live.js';
import { match, path } from './router.js';
import { useSignal } from './store.js';
import { currentTheme, nextTheme } from './theme.js';
import { Dashboard } from './pages/dashboard.js';
import { Miners } from './pages/miners.js';
import { MinerPage } from './pages/miner.js';
import { Pools } from './pages/pools.js';
import { Automation } from './pages/automation.js';
import { Energy } from './pages/energy.js';
import { Testbeds } from './pages/testbeds.js';
import { TestbedPage } from './pages/testbed.js';
import { Jobs } from './pages/jobs.js';
import { JobPage } from './pages/job.js';
import { Settings } from './pages/settings.js';

const NAV: Array<[string, string]> = [
  ['/', 'Dashboard'],
  ['/miners', 'Miners'],
  ['/pools', 'Pools'],
  ['/automation', 'Automation'],
  ['/energy', 'Energy'],
  ['/testbeds', 'Testbeds'],
  ['/jobs', 'Jobs'],
  ['/settings', 'Settings'],
];

const ROUTES: Array<[string, (p: Record<string, string>) => preact.JSX.Element]> = [
  ['/', () => <Dashboard />],
  ['/miners', () => <Miners />],
  ['/miners/:id', (p) => <MinerPage id={p.id} />],
  ['/pools', () => <Pools />],
  ['/automation', () => <Automation />],
  ['/energy', () => <Energy />],
  ['/testbeds', () => <Testbeds />],
  ['/testbeds/:name', (p) => <TestbedPage name={p.name} />],
  ['/jobs', () => <Jobs />],
  ['/jobs/:id', (p) => <JobPage id={p.id} />],
  ['/settings', () => <Settings />],
];

function page(p: string) {
  for (const [pattern, make] of ROUTES) {
    const m = match(pattern, p);
    if (m) return make(m);
  }
  return (
    <section class="card">
      <h2>Not found</h2>
      <p>There is no page at {p}.</p>
    </section>
  );
}

function section(p: string): string {
  const first = '/' + (p.split('?')[0].split('/')[1] ?? '');
  return first;
}

export function Shell() {
  const p = useSignal(path);
  const who = useSignal(me);
  const live = useSignal(liveStatus);
  const [open, setOpen] = useState(false);
  const [theme, setTheme] = useState(currentTheme());
  const mainRef = useRef<HTMLElement>(null);
  useEffect(() => {
    setOpen(false);
    const title = NAV.find(([href]) => href === section(p))?.[1] ?? 'mvm';
    document.title = `${title} · mvm`;
  }, [p]);
  return (
    <div class={`shell ${open ? 'nav-open' : ''}`}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), mainRef.current?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <button
          class="btn menu"
          aria-expanded={open}
          aria-controls="nav"
          onClick={() => setOpen(!open)}
          aria-label="Menu"
        >
          ☰
        </button>
        <a href="/" class="brand">
          mvm
        </a>
        <span class={`live live-${live}`} title="live updates" data-testid="live">
          ● {live}
        </span>
        <span class="who" data-testid="who">
          {who?.name}
          {who?.readOnly && <span class="badge badge-readonly">read-only</span>}
          {who?.admin && <span class="badge">admin</span>}
        </span>
        <button
          class="btn"
          onClick={() => setTheme(nextTheme())}
          aria-label={`Theme: ${theme}`}
          title={`Theme: ${theme}`}
        >
          {theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}
        </button>
        <button class="btn" onClick={() => setToken(null)} data-testid="logout">
          Log out
        </button>
      </header>
      <nav id="nav" class="nav" aria-label="Pages">
        <ul>
          {NAV.map(([href, label]) => (
            <li>
              <a href={href} aria-current={section(p) === href ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" class="main" tabIndex={-1} ref={mainRef}>
        {page(p)}
      </main>
    </div>
  );
}
