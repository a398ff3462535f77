// Avalon Nano models as their cgminer API presents them. The Nano 3S (newer firmware) has work
// modes and a `MM ID0:Summary` estats string whose PS[] 7th value is wall watts; the Nano 3 has
// work levels, the older `MM ID0` key and a PS[] whose 7th value is not power.

export interface AvalonModel {
  id: 'nano3' | 'nano3s';
  prod: string;
  model: string;
  hwtype: string;
  firmware: string;
  core: string;
  /** The setting that picks the power level: workmode (3S) or worklevel (Nano 3). */
  levelKey: 'workmode' | 'worklevel';
  /** Per level 0..2: hashrate in GH/s and wall power in W. */
  levels: { ghs: number; watts: number; freq: number }[];
  defaultLevel: number;
  /** estats key holding the Key[value] string. */
  summaryKey: 'MM ID0' | 'MM ID0:Summary';
  help: string;
}

export const MODELS: Record<AvalonModel['id'], AvalonModel> = {
  nano3s: {
    id: 'nano3s', prod: 'Avalon Nano3s', model: 'Nano3s', hwtype: 'N_MM1v1_X1', firmware: '25021401_56abae7', core: 'A3197S',
    levelKey: 'workmode',
    levels: [{ ghs: 4500, watts: 92, freq: 372 }, { ghs: 5500, watts: 112, freq: 450 }, { ghs: 6500, watts: 140, freq: 530 }],
    defaultLevel: 2, summaryKey: 'MM ID0:Summary',
    help: 'help|voltage|fan-spd|lcd|workmode|reboot|softon|softoff|filter-clean|target-temp|time|',
  },
  nano3: {
    id: 'nano3', prod: 'Avalon Nano3', model: 'Nano3', hwtype: 'N_MM1v1_X1', firmware: '23111401_1f4bd3d', core: 'A3197S',
    levelKey: 'worklevel',
    levels: [{ ghs: 2000, watts: 70, freq: 250 }, { ghs: 3000, watts: 100, freq: 350 }, { ghs: 4000, watts: 140, freq: 450 }],
    defaultLevel: 2, summaryKey: 'MM ID0',
    help: 'help: fan-spd|reboot|worklevel|ledset',
  },
};
