// Avalon Nano models as their cgminer API presents them. The Nano 3S has work modes and a PS[]
// whose 7th value is wall watts; the Nano 3 has work levels and a PS[] whose 7th value is not
// power. Firmware decides the estats key: builds from mid-2025 (the recorded 25052801) put the
// Key[value] string under "MM ID0:Summary" wrapped in 'STATS':{…}; older ones (the Nano 3S's
// 25021401, the Nano 3's 2407…) under "MM ID0", bare.

export interface AvalonModel {
  id: 'nano3' | 'nano3s';
  prod: string;
  model: string;
  /** How the model names itself in estats Ver[…] (the Nano 3 in lower case). */
  verPrefix: string;
  hwtype: string;
  defaultFirmware: string;
  core: string;
  /** The stats item ID: AVALON0 on the 3S (AVA100 on bare "MM ID0" builds), AVANANO0 on the Nano 3. */
  statsId: string;
  /** setpool's web login: user admin on the 3S; on the Nano 3 root with the password's SHA-256 (hex). */
  webUser: string;
  webPass: string;
  /** What the reboot argument must be: a delay 0–300 s on the 3S; "all" on the Nano 3. */
  rebootArg: 'delay' | 'all';
  /** Where the version reply carries the firmware build: LVERSION/CGVERSION (3S) or VERSION (Nano 3). */
  versionKey: 'CGVERSION' | 'VERSION';
  /** The setting that picks the power level: workmode (3S) or worklevel (Nano 3). */
  levelKey: 'workmode' | 'worklevel';
  /** Per level 0..2: hashrate in GH/s, wall power in W, ASIC MHz, average chip temperature and its target. */
  levels: { ghs: number; watts: number; freq: number; tavg: number; tarT: number }[];
  defaultLevel: number;
  /** TMax at which the firmware stops hashing. */
  overheatTmax: number;
  help: string;
}

export const MODELS: Record<AvalonModel['id'], AvalonModel> = {
  nano3s: {
    id: 'nano3s',
    prod: 'Avalon Nano3s',
    model: 'Nano3s',
    verPrefix: 'Nano3s',
    hwtype: 'N_MM1v1_X1',
    defaultFirmware: '25052801_14a19a2',
    core: 'A3197S',
    levelKey: 'workmode',
    statsId: 'AVALON0',
    webUser: 'admin',
    webPass: 'admin',
    rebootArg: 'delay',
    versionKey: 'CGVERSION',
    levels: [
      { ghs: 4500, watts: 92, freq: 372, tavg: 78, tarT: 80 },
      { ghs: 5500, watts: 112, freq: 432, tavg: 83, tarT: 85 },
      { ghs: 6500, watts: 133, freq: 465, tavg: 88, tarT: 90 },
    ],
    defaultLevel: 2,
    overheatTmax: 105,
    help: 'help|voltage|fan-spd|lcd|workmode|reboot|softon|softoff|filter-clean|target-temp|time|',
  },
  nano3: {
    id: 'nano3',
    prod: 'Avalon Nano3',
    model: 'Nano3',
    verPrefix: 'nano3',
    hwtype: 'N_MM1v1_X1',
    defaultFirmware: '24071801_42c628d',
    core: 'A3197S',
    levelKey: 'worklevel',
    statsId: 'AVANANO0',
    webUser: 'root',
    versionKey: 'VERSION',
    // sha256("root"): the Nano 3 checks a hashed password, not the plain one.
    webPass: '4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2',
    rebootArg: 'all',
    levels: [
      { ghs: 2000, watts: 70, freq: 250, tavg: 68, tarT: 75 },
      { ghs: 3000, watts: 100, freq: 350, tavg: 73, tarT: 80 },
      { ghs: 4000, watts: 140, freq: 450, tavg: 78, tarT: 85 },
    ],
    defaultLevel: 2,
    overheatTmax: 100,
    help: 'help: fan-spd|reboot|worklevel|ledset',
  },
};

/** The estats key a firmware build uses (its build date is the first 8 digits). */
export function summaryKeyFor(firmware: string): 'MM ID0' | 'MM ID0:Summary' {
  const date = Number(firmware.slice(0, 8));
  return Number.isFinite(date) && date >= 25050000 ? 'MM ID0:Summary' : 'MM ID0';
}
