// The browser's side of the fleet API: every call carries the session's token, and every refusal
// comes back as an ApiError whose message is the API's own text (shown as is next to the action).
import { signal } from './store.js';

const TOKEN_KEY = 'mvm.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface Whoami {
  name: string;
  admin: boolean;
  readOnly: boolean;
}

/** The token of this browser tab (sessionStorage: gone when the tab closes). */
export const token = signal<string | null>(sessionStorage.getItem(TOKEN_KEY));
/** Who the token belongs to, once the API said so. */
export const me = signal<Whoami | null>(null);

export function setToken(t: string | null): void {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
  token.value = t;
  if (!t) me.value = null;
}

/** Whether this session may act (the API refuses anyway; this only hides the buttons). */
export function canAct(): boolean {
  return !!me.value && !me.value.readOnly;
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  let hint: string | undefined;
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: string; error?: string; hint?: string };
    message = body.message ?? body.error ?? message;
    hint = body.hint;
  } catch {
    if (text) message = text.slice(0, 500);
  }
  return new ApiError(res.status, message, hint);
}

export async function api<T = unknown>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token.value) headers.authorization = `Bearer ${token.value}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
  });
  if (res.status === 401) {
    // a wrong or revoked token: back to the login page, with the API's reason
    const err = await errorOf(res);
    setToken(null);
    loginReason.value = err.message;
    throw err;
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? res.json() : res.text()) as Promise<T>;
}

/** Why the login page is shown (a refused token), if it is. */
export const loginReason = signal<string | null>(null);

/** Which lab upstreams the fleet daemon reaches (GET /api/web/lab): lab pages hide what is missing. */
export const upstreams = signal<{ lab: boolean; jobs: boolean; labs?: string[] } | null>(null);

export async function loadUpstreams(): Promise<void> {
  try {
    upstreams.value = await api<{ lab: boolean; jobs: boolean; labs?: string[] }>('/api/web/lab');
  } catch {
    upstreams.value = { lab: false, jobs: false };
  }
}

/** The API's paths from its OpenAPI document (null: not known, every path is assumed there). */
export const apiPaths = signal<Set<string> | null>(null);

export async function loadApiPaths(): Promise<void> {
  try {
    const res = await fetch('/openapi.json');
    if (res.ok) apiPaths.value = new Set(Object.keys(((await res.json()) as { paths?: object }).paths ?? {}));
  } catch {
    // unknown: pages try every path
  }
}

/** Whether the daemon serves `template` ("/api/miners/{id}/history"): pages built on parts a daemon lacks say so instead of failing. */
export function hasApi(template: string): boolean {
  return !apiPaths.value || apiPaths.value.has(template);
}

/** The path when the daemon serves `template`, else null (useApi(null) reads nothing). */
export function ifApi(template: string, path: string = template): string | null {
  return hasApi(template) ? path : null;
}

/** Asks the API who the token is; a wrong token ends on the login page. */
export async function whoami(): Promise<Whoami> {
  // the fleet API answers {name, role: 'admin' | 'read'}; {admin, readOnly} is accepted too
  const w = await api<Partial<Whoami> & { role?: string }>('/api/whoami');
  const who: Whoami = {
    name: w.name ?? '?',
    admin: w.role ? w.role === 'admin' : !!w.admin,
    readOnly: w.role ? w.role !== 'admin' : !!w.readOnly,
  };
  me.value = who;
  return who;
}

/** A list from an answer that is either an array or an object holding one. */
export function listOf<T>(x: unknown, ...keys: string[]): T[] {
  if (Array.isArray(x)) return x as T[];
  if (x && typeof x === 'object') {
    for (const k of [...keys, 'items', 'data', 'results']) {
      const v = (x as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v as T[];
    }
  }
  return [];
}

export const enc = encodeURIComponent;
