// The requirement targets this factory knows (db table requirement_targets): kept so that a
// restarted factory serves them at once, without asking the job server.
import { asc } from 'drizzle-orm';
import type { OpenedDb } from '../shared/db.js';
import { requirementTargets, type RequirementTargetRow, type Schema } from './db/schema.js';
import type { DeviceRequirement, RequirementTarget } from './requirements.js';

export class RequirementTargets {
  constructor(
    private readonly opened: OpenedDb<Schema>,
    private readonly now: () => number,
  ) {}

  all(): RequirementTarget[] {
    return this.opened.db
      .select()
      .from(requirementTargets)
      .orderBy(asc(requirementTargets.name))
      .all()
      .map((r: RequirementTargetRow) => ({
        name: r.name,
        id: r.targetId,
        requirement: JSON.parse(r.requirement) as DeviceRequirement[],
      }));
  }

  /** Records a target (the name is derived from the requirement, so a second save is the same row). */
  save(t: RequirementTarget): void {
    this.opened.db
      .insert(requirementTargets)
      .values({ name: t.name, targetId: t.id, requirement: JSON.stringify(t.requirement), createdAt: this.now() })
      .onConflictDoUpdate({ target: requirementTargets.name, set: { targetId: t.id } })
      .run();
  }
}
