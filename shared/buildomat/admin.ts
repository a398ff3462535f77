// Typed client for the admin side of the buildomat API: targets, factories, users.
import { HttpClient, seg } from '../http.js';
import type { Factory, FactoryCreateResult, Target, TargetCreateResult, User, UserCreateResult } from '../api/types.js';

export class AdminClient {
  constructor(readonly http: HttpClient) {}

  async createTarget(name: string, desc: string, signal?: AbortSignal): Promise<string> {
    const r = await this.http.post<TargetCreateResult>('/0/admin/target', { name, desc }, { signal });
    return r.id;
  }

  listTargets(signal?: AbortSignal): Promise<Target[]> {
    return this.http.get('/0/admin/targets', { signal });
  }

  /** Points target `target` (an id) at `redirect` (an id), or clears the redirect with null. */
  redirectTarget(target: string, redirect: string | null, signal?: AbortSignal): Promise<void> {
    return this.http.put(`/0/admin/targets/${seg(target)}/redirect`, { redirect }, { signal });
  }

  createFactory(name: string, signal?: AbortSignal): Promise<FactoryCreateResult> {
    return this.http.post('/0/admin/factory', { name }, { signal });
  }

  listFactories(signal?: AbortSignal): Promise<Factory[]> {
    return this.http.get('/0/admin/factories', { signal });
  }

  enableFactory(factory: string, opts: { holdWorkers?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    return this.http.post(
      `/0/admin/factory/${seg(factory)}/enable`,
      { hold_workers: opts.holdWorkers ?? false },
      { signal: opts.signal },
    );
  }

  disableFactory(factory: string, signal?: AbortSignal): Promise<void> {
    return this.http.post(`/0/admin/factory/${seg(factory)}/disable`, undefined, { signal });
  }

  createUser(name: string, signal?: AbortSignal): Promise<UserCreateResult> {
    return this.http.post('/0/users', { name }, { signal });
  }

  listUsers(signal?: AbortSignal): Promise<User[]> {
    return this.http.get('/0/users', { signal });
  }

  /** mvm server only: the user's token stops working. */
  revokeUserToken(user: string, signal?: AbortSignal): Promise<void> {
    return this.http.delete(`/0/users/${seg(user)}/token`, { signal });
  }

  /** mvm server only: a new token for the user (shown once); the old one stops working. */
  newUserToken(user: string, signal?: AbortSignal): Promise<{ id: string; name: string; token: string }> {
    return this.http.post(`/0/users/${seg(user)}/token`, {}, { signal });
  }
}
