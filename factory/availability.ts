// Whether a testbed can take a job now, and if not, every reason why. Leasing uses the verdict;
// `mvm testbeds why` and the API show the reasons, so people see exactly what the factory sees.
import type { LockRow, TestbedRow } from './db/schema.js';
import { describeLock } from './locks.js';

export type BlockerKind =
  | 'unconfigured'
  | 'disabled'
  | 'retired'
  | 'maintenance'
  | 'bad'
  | 'unhealthy'
  | 'busy'
  | 'reserved'
  | 'checking'
  | 'restoring'
  | 'unavailable';

export interface Blocker {
  kind: BlockerKind;
  message: string;
  /** When it ends, if that is known (a reservation's TTL, a check's backoff). */
  until?: number;
}

export interface AvailabilityInput {
  testbed: TestbedRow;
  lock?: LockRow;
}

export interface AvailabilityPolicy {
  /** Keep `unknown` testbeds out of allocation until a check passes. */
  quarantineUnhealthy: boolean;
}

const LOCK_BLOCKER: Record<LockRow['kind'], BlockerKind> = {
  job: 'busy',
  reservation: 'reserved',
  check: 'checking',
  restore: 'restoring',
};

const iso = (ms: number) => new Date(ms).toISOString();

export function blockers(i: AvailabilityInput, policy: AvailabilityPolicy): Blocker[] {
  const t = i.testbed;
  const out: Blocker[] = [];
  if (!t.configured) out.push({ kind: 'unconfigured', message: 'no longer in the factory config' });
  if (!t.enabled) out.push({ kind: 'disabled', message: 'disabled in the factory config (enabled = false)' });
  // Before health: a host that cannot be reached is why the testbed cannot even be checked.
  if (t.unavailable !== null && t.health !== 'retired' && t.health !== 'maintenance')
    out.push({ kind: 'unavailable', message: `its host cannot be used: ${t.unavailable}` });
  switch (t.health) {
    case 'retired':
      out.push({ kind: 'retired', message: `decommissioned${t.healthReason ? ` (${t.healthReason})` : ''}` });
      break;
    case 'maintenance':
      out.push({ kind: 'maintenance', message: t.healthReason ?? 'in maintenance' });
      break;
    case 'bad':
      out.push({ kind: 'bad', message: `unhealthy until a person acts: ${t.healthReason ?? 'health checks failed'}` });
      break;
    case 'unknown':
      if (policy.quarantineUnhealthy) {
        const next =
          t.nextCheckAt !== null && t.nextCheckAt > Date.now()
            ? `; next check at ${iso(t.nextCheckAt)}`
            : '; a health check is due';
        out.push({
          kind: 'unhealthy',
          message: `health unknown${t.healthReason ? ` (${t.healthReason})` : ''}${next}`,
          ...(t.nextCheckAt !== null ? { until: t.nextCheckAt } : {}),
        });
      }
      break;
    case 'checking':
    case 'good':
      break;
  }
  if (i.lock) {
    const kind: BlockerKind = LOCK_BLOCKER[i.lock.kind];
    out.push({
      kind,
      message: describeLock(i.lock),
      ...(i.lock.expiresAt !== null ? { until: i.lock.expiresAt } : {}),
    });
  }
  return out;
}

export function isFree(i: AvailabilityInput, policy: AvailabilityPolicy): boolean {
  return blockers(i, policy).length === 0;
}
