// The actuator over the fleet's actions: results and thrown refusals, modes, testbed holds.
import t from 'tap';
import { fleetActionsActuator } from '../../fleet/automation/fleet-actuator.js';
import { MvmError } from '../../shared/errors.js';
import { minerView } from './support.js';

t.test('actions map to results and refusals', async (t) => {
  const calls: string[] = [];
  const done = (what: string) => async () => {
    calls.push(what);
    return { message: `${what} done` };
  };
  const actions = {
    modes: (id: string) => {
      if (id === 'nm') throw new MvmError('NOT_FOUND', 'no miner nm');
      return { miner: id, driver: 'cgminer', modes: ['low', 'med', 'high'], aliases: {}, desired: null };
    },
    setMode: async (id: string, mode: string, ctx: { actor: string }) => {
      if (mode === 'oc') throw new MvmError('USAGE', `${id} has no mode oc`, { hint: 'modes: low, med, high' });
      calls.push(`${id} ${mode} ${ctx.actor}`);
      return { message: `mode ${mode}` };
    },
    pause: done('pause'),
    resume: done('resume'),
    switchPool: done('pool'),
    restart: done('restart'),
    settings: async (_id: string, s: { fan?: number }) => done(`fan ${s.fan}`)(),
  };
  const miners = [minerView('nano'), minerView('lab', { testbed: 'tb-1' })];
  const a = fleetActionsActuator(actions as never, (id) => miners.find((m) => m.id === id));
  const ctx = { actor: 'rule:r', rule: { id: 1, name: 'r' }, reason: 'rule "r": test' };
  t.same(a.modes('nano'), ['low', 'med', 'high']);
  t.equal(a.modes('nm'), null);
  t.same(await a.setMode('nano', 'low', ctx), { ok: true, message: 'mode low' });
  t.same(await a.setMode('nano', 'oc', ctx), {
    ok: false,
    reason: 'nano has no mode oc (hint: modes: low, med, high)',
  });
  t.same(await a.setFan('nano', 80, ctx), { ok: true, message: 'fan 80 done' });
  t.same(await a.hold('nano', ctx), { ok: true }, 'a miner outside testbeds needs no hold');
  t.match(await a.hold('lab', ctx), { ok: false, reason: /belongs to testbed tb-1 and no factory is configured/ });
  t.same(calls, ['nano low rule:r', 'fan 80']);
});

t.test(
  'reservationGate: one reservation shared by the rules holding a testbed, renewed, re-owned after a restart',
  async (t) => {
    const { reservationGate } = await import('../../fleet/automation/driver-actuator.js');
    const log: string[] = [];
    let held = false;
    const client = {
      async reserve(tb: string) {
        if (held) throw new Error(`you already hold testbed ${tb}`);
        held = true;
        log.push('reserve');
      },
      async release() {
        held = false;
        log.push('release');
      },
      async renew(tb: string) {
        if (!held) throw new Error(`you do not hold testbed ${tb}`);
        log.push('renew');
      },
    };
    let now = 0;
    const gate = reservationGate(client, { renewEveryMs: 1000, now: () => now });
    const ctx = (id: number) => ({ actor: `rule:r${id}`, rule: { id, name: `r${id}` }, reason: `rule "r${id}"` });
    t.same(await gate.hold('tb', ctx(1)), { ok: true });
    t.same(await gate.hold('tb', ctx(2)), { ok: true });
    now = 500;
    t.same(await gate.keep!('tb', ctx(1)), { ok: true });
    now = 1500;
    t.same(await gate.keep!('tb', ctx(2)), { ok: true });
    t.same(await gate.release('tb', ctx(1)), { ok: true, message: 'still held by 1 rule(s)' });
    t.same(log, ['reserve', 'renew'], 'one reservation, renewed when due');
    // The fleet restarts while holding it: a new gate reserves, is told it already holds it, renews.
    const again = reservationGate(client, { now: () => now });
    t.same(await again.hold('tb', ctx(2)), { ok: true });
    t.same(await again.release('tb', ctx(2)), { ok: true });
    t.same(log, ['reserve', 'renew', 'renew', 'release']);
    t.match(await again.keep!('tb', ctx(2)), { ok: false, reason: /not held/ });
  },
);
