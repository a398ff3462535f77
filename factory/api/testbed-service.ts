// The API's work, apart from HTTP: testbed views with their blockers, explaining why a target's
// jobs wait, and turning a device requirement into a target (created on the job server when it
// does not exist yet). The routes only parse, authorise and call these.
import { AdminClient } from '../../shared/buildomat/admin.js';
import { ApiError, MvmError } from '../../shared/errors.js';
import { HttpClient } from '../../shared/http.js';
import { isUlid } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import { blockers as blockersOf, type Blocker } from '../availability.js';
import type { FactoryConfig, TestbedConfig } from '../config/types.js';
import { serverHttp } from '../server-http.js';
import type { FactoryStore, TestbedView } from '../store.js';
import {
  canonicalRequirement,
  describeRequirement,
  requirementTargetName,
  satisfies,
  type DeviceRequirement,
} from '../requirements.js';
import type { Factory } from '../tick.js';
import { testbedView, type TestbedApiView, type ViewContext } from './views.js';

export interface TestbedServiceDeps {
  config: FactoryConfig;
  store: FactoryStore;
  factory: Factory;
  log: Logger;
  /** Creates or finds a target on the job server (default: through the admin API with [general] admin_token). */
  ensureTarget?: (name: string, desc: string) => Promise<string>;
}

/** A requirement no configured testbed can satisfy, with each testbed's reason. */
export class UnsatisfiableError extends MvmError {
  constructor(
    message: string,
    readonly testbeds: Array<{ name: string; why: string }>,
  ) {
    super('CONFLICT', message, {
      hint: "change the test definition's devices, or add a testbed that has them to the factory config",
    });
  }
}

export interface Explanation {
  target: string;
  served: boolean;
  summary: string;
  testbeds: Array<{ name: string; serves: boolean; free: boolean; reasons: Blocker[] }>;
}

export class TestbedService {
  private readonly byName: Map<string, TestbedConfig>;

  constructor(private readonly deps: TestbedServiceDeps) {
    this.byName = new Map(deps.config.testbeds.map((t) => [t.name, t]));
  }

  private get policy() {
    return { quarantineUnhealthy: this.deps.config.quarantineUnhealthy };
  }

  private viewContext(): ViewContext {
    return {
      config: (n) => this.byName.get(n),
      blockers: (v) => blockersOf({ testbed: v, lock: v.lock }, this.policy),
      targetNames: (n) => this.deps.factory.servedTargetIds(n).map((id) => this.deps.factory.targetName(id)),
    };
  }

  testbeds(): TestbedApiView[] {
    const ctx = this.viewContext();
    return this.deps.store.testbedViews().map((v) => testbedView(v, ctx));
  }

  testbed(name: string): TestbedApiView {
    const v = this.deps.store.testbedViews().find((t) => t.name === name);
    if (!v)
      throw new MvmError('NOT_FOUND', `no testbed named ${JSON.stringify(name)}`, {
        hint: '`mvm testbeds list` shows the testbeds',
      });
    return testbedView(v, this.viewContext());
  }

  /** The target id a name stands for here: a config target, a requirement target, or an id. */
  private targetId(name: string): string | undefined {
    return (
      this.deps.factory.requirements.byName(name)?.id ??
      this.deps.factory.targetIdOf(name) ??
      (isUlid(name) ? name : undefined)
    );
  }

  /** Which testbeds serve the target (or would serve the requirement) and why each cannot take a job now. */
  explain(q: { target?: string; devices?: Array<{ hardware?: string | number; attributes?: string[] }> }): Explanation {
    if ((q.target === undefined) === (q.devices === undefined)) {
      throw new MvmError('USAGE', 'give either target or devices', {
        hint: 'e.g. {"target": "bitaxe"} or {"devices": [{"hardware": "601"}]}',
      });
    }
    const views = new Map(this.deps.store.testbedViews().map((v) => [v.name, v]));
    const req = q.devices ? canonicalRequirement(q.devices) : undefined;
    const target = req ? requirementTargetName(req) : q.target!;
    const id = req ? undefined : this.targetId(target);
    const testbeds = this.deps.config.testbeds.map((tb) => {
      const v = views.get(tb.name);
      let serves: boolean;
      let notServing = '';
      if (req) {
        const s = satisfies(tb, req);
        serves = s.ok;
        if (!s.ok) notServing = s.why;
      } else {
        serves = id !== undefined && this.deps.factory.servedTargetIds(tb.name).includes(id);
        if (!serves)
          notServing = `it serves ${
            this.deps.factory
              .servedTargetIds(tb.name)
              .map((x) => this.deps.factory.targetName(x))
              .join(', ') || 'no target'
          }`;
      }
      const reasons =
        serves && v
          ? blockersOf({ testbed: v, lock: v.lock }, this.policy)
          : serves
            ? []
            : [{ kind: 'not-serving' as Blocker['kind'], message: notServing }];
      return { name: tb.name, serves, free: serves && reasons.length === 0, reasons };
    });
    const serving = testbeds.filter((t) => t.serves);
    const free = serving.filter((t) => t.free);
    const summary =
      serving.length === 0
        ? `no testbed of this factory serves ${req ? `the requirement ${describeRequirement(req)}` : `target ${target}`}`
        : free.length > 0
          ? `${free.map((t) => t.name).join(', ')} ${free.length === 1 ? 'is' : 'are'} free: a queued job is picked up at the next pass`
          : `${serving.length} testbed${serving.length === 1 ? ' serves' : 's serve'} it; none is free`;
    return { target, served: serving.length > 0, summary, testbeds };
  }

  /**
   * The target for a requirement: refused when no configured testbed (decommissioned ones aside)
   * can ever satisfy it; otherwise found or created on the job server and served from now on.
   */
  async resolveRequirement(devices: Array<{ hardware?: string | number; attributes?: string[] }>): Promise<{
    target: string;
    targetId: string;
    requirement: DeviceRequirement[];
    description: string;
    testbeds: string[];
  }> {
    const req = canonicalRequirement(devices);
    const description = describeRequirement(req);
    const retired = new Set(
      this.deps.store
        .testbeds()
        .filter((t) => t.health === 'retired')
        .map((t) => t.name),
    );
    const verdicts = this.deps.config.testbeds.map((tb) => ({
      name: tb.name,
      s: retired.has(tb.name) ? { ok: false as const, why: 'decommissioned' } : satisfies(tb, req),
    }));
    const able = verdicts.filter((v) => v.s.ok).map((v) => v.name);
    if (able.length === 0) {
      throw new UnsatisfiableError(
        `no testbed of this factory can ever run a job needing ${description}`,
        verdicts.map((v) => ({ name: v.name, why: v.s.ok ? 'ok' : v.s.why })),
      );
    }
    const name = requirementTargetName(req);
    const reqs = this.deps.factory.requirements;
    let id = reqs.byName(name)?.id ?? this.deps.factory.targetIdOf(name);
    if (id === undefined) {
      id = await (this.deps.ensureTarget ?? ((n, d) => this.ensureTargetOnServer(n, d)))(
        name,
        `mvm device requirement: ${description} ${JSON.stringify(req)}`,
      );
      this.deps.log.info(
        { target: name, id, requirement: description, testbeds: able },
        'serving a new requirement target',
      );
    }
    if (!reqs.byName(name)) {
      this.deps.store.requirementTargets.save({ name, id, requirement: req });
      reqs.add({ name, id, requirement: req });
    }
    return { target: name, targetId: id, requirement: req, description, testbeds: able };
  }

  private async ensureTargetOnServer(name: string, desc: string): Promise<string> {
    const { config } = this.deps;
    if (!config.adminToken) {
      throw new MvmError('NETWORK', `cannot create target ${name} on the job server: the factory has no admin token`, {
        hint: `set [general] admin_token (or admin_token_file) in ${config.file}, or create the target by hand (mvm admin target create ${name}) and add [target.${name}] with its id`,
        retryable: false,
      });
    }
    const admin = new AdminClient(
      new HttpClient({ ...serverHttp(config, config.adminToken), userAgent: 'mvm-factory' }),
    );
    const existing = (await admin.listTargets()).find((t) => t.name === name);
    if (existing) return existing.id;
    try {
      return await admin.createTarget(name, desc);
    } catch (err) {
      // Another factory created it meanwhile.
      if (err instanceof ApiError && err.status === 409) {
        const t = (await admin.listTargets()).find((x) => x.name === name);
        if (t) return t.id;
      }
      throw err;
    }
  }

  history(name: string, limit: number) {
    this.testbed(name);
    return {
      events: this.deps.store.testbedHistory(name, limit),
      instances: this.deps.store.testbedInstances(name, limit),
    };
  }

  view(v: TestbedView): TestbedApiView {
    return testbedView(v, this.viewContext());
  }
}
