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
    pause: done('pause'), resume: done('resume'), switchPool: done('pool'), restart: done('restart'),
    settings: async (_id: string, s: { fan?: number }) => done(`fan ${s.fan}`)(),
  };
  const miners = [minerView('nano'), minerView('lab', { testbed: 'tb-1' })];
  const a = fleetActionsActuator(actions as never, (id) => miners.find((m) => m.id === id));
  const ctx = { actor: 'rule:r', rule: { id: 1, name: 'r' }, reason: 'rule "r": test' };
  t.same(a.modes('nano'), ['low', 'med', 'high']);
  t.equal(a.modes('nm'), null);
  t.same(await a.setMode('nano', 'low', ctx), { ok: true, message: 'mode low' });
  t.same(await a.setMode('nano', 'oc', ctx), { ok: false, reason: 'nano has no mode oc (hint: modes: low, med, high)' });
  t.same(await a.setFan('nano', 80, ctx), { ok: true, message: 'fan 80 done' });
  t.same(await a.hold('nano', ctx), { ok: true }, 'a miner outside testbeds needs no hold');
  t.match(await a.hold('lab', ctx), { ok: false, reason: /belongs to testbed tb-1 and no factory is configured/ });
  t.same(calls, ['nano low rule:r', 'fan 80']);
});
