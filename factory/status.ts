// `mvm factory status`: what the factory's database says — testbeds, live instances, counts.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MvmError } from '../shared/errors.js';
import type { InstanceRow, InstanceState } from './db/schema.js';
import { FactoryStore } from './instances.js';

export interface FactoryStatus {
  database: string;
  testbeds: Array<{
    name: string;
    enabled: boolean;
    configured: boolean;
    state: 'free' | 'busy' | 'disabled' | 'health-check-due';
    healthCheckDue: boolean;
    healthReason: string | null;
    instance: string | null;
  }>;
  instances: Array<Pick<InstanceRow, 'id' | 'testbed' | 'seq' | 'target' | 'job' | 'workerId' | 'state' | 'reason' | 'failure' | 'agentPid' | 'createdAt'>>;
  counts: Record<InstanceState, number>;
}

export function readStatus(dbFile: string): FactoryStatus {
  const path = resolve(dbFile);
  if (!existsSync(path)) {
    throw new MvmError('NOT_FOUND', `no factory database at ${path}`, { hint: 'pass the file the factory runs with: mvm factory status -d FILE' });
  }
  const store = FactoryStore.open(path);
  try {
    const views = store.testbedViews();
    return {
      database: path,
      testbeds: views.map((t) => ({
        name: t.name,
        enabled: t.enabled,
        configured: t.configured,
        state: t.instance ? 'busy' : !t.enabled || !t.configured ? 'disabled' : t.healthCheckDue ? 'health-check-due' : 'free',
        healthCheckDue: t.healthCheckDue,
        healthReason: t.healthReason,
        instance: t.instance?.id ?? null,
      })),
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
  const lines: string[] = [];
  const w = Math.max(7, ...s.testbeds.map((t) => t.name.length));
  lines.push(`${'TESTBED'.padEnd(w)}  ${'STATE'.padEnd(16)}  INSTANCE`);
  for (const t of s.testbeds) {
    lines.push(`${t.name.padEnd(w)}  ${t.state.padEnd(16)}  ${t.instance ?? '-'}${t.healthReason ? `  (${t.healthReason})` : ''}`);
  }
  lines.push('');
  if (s.instances.length === 0) lines.push('no live instances');
  for (const i of s.instances) {
    lines.push(`${i.id}  ${i.testbed}/${i.seq}  ${i.state}  worker ${i.workerId}${i.job ? `  job ${i.job}` : ''}${i.reason ? `  (${i.reason})` : ''}`);
  }
  const c = s.counts;
  lines.push(`instances: ${c.created} created, ${c.running} running, ${c.destroying} destroying, ${c.destroyed} destroyed`);
  return lines.join('\n');
}
