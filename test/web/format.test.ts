// The web UI's number formats (web/src/format.ts, no DOM): hashrates read in the unit that suits
// them, and a chart of an NMMiner's kH/s is drawn in kH/s, not as 0.000116 GH/s.
import t from 'tap';
import { hashrate, hashrateUnit } from '../../web/src/format.js';

t.test('hashrates: the unit that suits the value', async (t) => {
  t.equal(hashrate(1183.8), '1.18 TH/s');
  t.equal(hashrate(610), '610 GH/s');
  t.equal(hashrate(0.000116), '116 kH/s');
  t.equal(hashrate(0.0152), '15.2 MH/s');
  t.equal(hashrate(null), '—');
  t.same(hashrateUnit(0.000116), [1e-6, 'kH/s'], "an NMMiner's chart is in kH/s");
  t.same(hashrateUnit(6490), [1e3, 'TH/s']);
  t.same(hashrateUnit(0), [1e-9, 'H/s'], 'no samples yet: the smallest unit, never a division by 0');
});
