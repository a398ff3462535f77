// Dark or light: the system's choice unless the person picked one (kept in localStorage).
const KEY = 'mvm.theme';

export type Theme = 'light' | 'dark' | 'auto';

export function currentTheme(): Theme {
  const t = localStorage.getItem(KEY);
  return t === 'light' || t === 'dark' ? t : 'auto';
}

export function applyTheme(t: Theme = currentTheme()): void {
  if (t === 'auto') {
    localStorage.removeItem(KEY);
    delete document.documentElement.dataset.theme;
  } else {
    localStorage.setItem(KEY, t);
    document.documentElement.dataset.theme = t;
  }
}

export function nextTheme(): Theme {
  const order: Theme[] = ['auto', 'dark', 'light'];
  const t = order[(order.indexOf(currentTheme()) + 1) % order.length];
  applyTheme(t);
  return t;
}
