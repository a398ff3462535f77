// Page routes in the address bar (history API): links are plain <a href>, intercepted here so
// the page changes without a reload; the server answers index.html for any page route.
import { signal } from './store.js';

export const path = signal(location.pathname + location.search);

export function navigate(to: string, replace = false): void {
  if (to === path.value) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  path.value = to;
  window.scrollTo(0, 0);
}

export function startRouter(): void {
  window.addEventListener('popstate', () => (path.value = location.pathname + location.search));
  document.addEventListener('click', (e) => {
    const a = (e.target as Element).closest?.('a');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const href = a.getAttribute('href');
    if (!href || !href.startsWith('/') || href.startsWith('/api/') || a.hasAttribute('download') || a.target) return;
    e.preventDefault();
    navigate(href);
  });
}

/** Matches "/miners/:id" against a path; returns the decoded params or null. */
export function match(pattern: string, p: string): Record<string, string> | null {
  const [pathOnly] = p.split('?');
  const a = pattern.split('/');
  const b = pathOnly.replace(/\/+$/, '').split('/');
  if (pathOnly === '/' && pattern === '/') return {};
  if (a.length !== b.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) out[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return out;
}

export function query(name: string): string | null {
  return new URLSearchParams(path.value.split('?')[1] ?? '').get(name);
}
