// `mvm factory status`: what the factory's database says — testbeds (health, what holds them, why
// they cannot take a job), live instances, counts. Read straight from the file: works while the
// factory runs (WAL) and while it is stopped.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { table } from '../cli/table.js';
import { MvmError } from '../shared/errors.js';
import type { Blocker } from './availability.js';
import type { HealthState, InstanceRow, InstanceState, LockKind } from './db/schema.js';
import { FactoryStore } from './store.js';

export interface TestbedStatus {
  name: string;
  enabled: boolean;
  configured: boolean;
  /** "free", or the first reason it cannot take a job (busy, reserved, unhealthy, …). */
  state: 'free' | Blocker['kind'];
  health: HealthState;
  healthReason: string | null;
  lock: { kind: LockKind; owner: string; reason: string | null; expiresAt: number | null } | null;
  blockers: Blocker[];
  instance: string | null;
}

export interface FactoryStatus {
  database: string;
  testbeds: TestbedStatus[];
  instances: Array<
    Pick<
      InstanceRow,
      | 'id'
      | 'testbed'
      | 'seq'
      | 'target'
      | 'job'
      | 'workerId'
      | 'state'
      | 'reason'
      | 'failure'
      | 'agentPid'
      | 'createdAt'
    >
  >;
  counts: Record<InstanceState, number>;
}

export function readStatus(dbFile: string, opts: { quarantineUnhealthy?: boolean } = {}): FactoryStatus {
  const path = resolve(dbFile);
  if (!existsSync(path)) {
    throw new MvmError('NOT_FOUND', `no factory database at ${path}`, {
      hint: 'pass the file the factory runs with: mvm factory status -d FILE',
    });
  }
  const store = FactoryStore.open(path);
  try {
    const blockers = store.blockersByTestbed({ quarantineUnhealthy: opts.quarantineUnhealthy ?? true });
    return {
      database: path,
      testbeds: store.testbedViews().map((t) => {
        const b = blockers.get(t.name) ?? [];
        return {
          name: t.name,
          enabled: t.enabled,
          configured: t.configured,
          state: b[0]?.kind ?? 'free',
          health: t.health,
          healthReason: t.healthReason,
          lock: t.lock
            ? { kind: t.lock.kind, owner: t.lock.owner, reason: t.lock.reason, expiresAt: t.lock.expiresAt }
            : null,
          blockers: b,
          instance: t.instance?.id ?? null,
        };
      }),
      instances: store.liveInstances().map((i) => ({
        id: i.id,
        testbed: i.testbed,
        seq: i.seq,
        target: i.target,
        job: i.job,
        workerId: i.workerId,
        state: i.state,
        reason: i.reason,
        failure: i.failure,
        agentPid: i.agentPid,
        createdAt: i.createdAt,
      })),
      counts: store.countsByState(),
    };
  } finally {
    store.close();
  }
}

export function formatStatus(s: FactoryStatus): string {
  const lines = [
    table(
      ['TESTBED', 'STATE', 'HEALTH', 'WHY / INSTANCE'],
      s.testbeds.map((t) => [
        t.name,
        t.state,
        t.health,
        t.instance ?? (t.blockers.map((b) => b.message).join('; ') || '-'),
      ]),
    ),
    '',
  ];
  if (s.instances.length === 0) lines.push('no live instances');
  for (const i of s.instances) {
    lines.push(
      `${i.id}  ${i.testbed}/${i.seq}  ${i.state}  worker ${i.workerId}${i.job ? `  job ${i.job}` : ''}${i.reason ? `  (${i.reason})` : ''}`,
    );
  }
  const c = s.counts;
  lines.push(
    `instances: ${c.created} created, ${c.running} running, ${c.destroying} destroying, ${c.destroyed} destroyed`,
  );
  return lines.join('\n');
}
