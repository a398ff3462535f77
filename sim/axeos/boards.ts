// Board models of the AxeOS family: what `boardVersion` means (ESP-Miner device_config) and the
// numbers a simulator needs to look like one — ASIC, core counts, defaults, power and thermals.
import { MvmError } from '../../shared/errors.js';

export type AsicModel = 'BM1397' | 'BM1366' | 'BM1368' | 'BM1370';

export interface Board {
  /** What `--board` accepts and `boardVersion` reports (NerdQAxe reports its own model name). */
  id: string;
  boardVersion: string;
  deviceModel: string;
  family: 'bitaxe' | 'nerdqaxe';
  asicModel: AsicModel;
  asicCount: number;
  smallCoreCount: number;
  defaultFrequency: number;
  defaultVoltage: number;
  frequencyOptions: number[];
  voltageOptions: number[];
  /** Input rail in mV (5 V Bitaxe, 12 V multi-ASIC boards). */
  nominalVoltage: number;
  maxPower: number;
  /** Wall efficiency at default settings, J/TH. */
  efficiency: number;
  swarmColor: string;
  hostname: string;
  /** Idle draw (ASICs off or paused), W. */
  idlePower: number;
}

const ASIC = {
  BM1397: {
    smallCoreCount: 672,
    defaultFrequency: 425,
    defaultVoltage: 1400,
    frequencyOptions: [400, 425, 450, 475, 485, 500, 525, 550, 575],
    voltageOptions: [1100, 1150, 1200, 1250, 1300, 1350, 1400, 1450, 1500],
  },
  BM1366: {
    smallCoreCount: 894,
    defaultFrequency: 485,
    defaultVoltage: 1200,
    frequencyOptions: [400, 425, 450, 475, 485, 500, 525, 550, 575],
    voltageOptions: [1100, 1150, 1200, 1250, 1300],
  },
  BM1368: {
    smallCoreCount: 1276,
    defaultFrequency: 490,
    defaultVoltage: 1166,
    frequencyOptions: [400, 425, 450, 475, 490, 500, 525, 550, 575],
    voltageOptions: [1100, 1150, 1166, 1200, 1250, 1300],
  },
  BM1370: {
    smallCoreCount: 2040,
    defaultFrequency: 525,
    defaultVoltage: 1150,
    frequencyOptions: [400, 490, 525, 550, 600, 625],
    voltageOptions: [1000, 1060, 1100, 1150, 1200, 1250],
  },
} as const;

function bitaxe(id: string, deviceModel: string, asicModel: AsicModel, extra: Partial<Board> = {}): Board {
  const a = ASIC[asicModel];
  return {
    id,
    boardVersion: id,
    deviceModel,
    family: 'bitaxe',
    asicModel,
    asicCount: 1,
    smallCoreCount: a.smallCoreCount,
    defaultFrequency: a.defaultFrequency,
    defaultVoltage: a.defaultVoltage,
    frequencyOptions: [...a.frequencyOptions],
    voltageOptions: [...a.voltageOptions],
    nominalVoltage: 5000,
    maxPower: 25,
    efficiency: 20,
    swarmColor: 'blue',
    hostname: 'bitaxe',
    idlePower: 3.1,
    ...extra,
  };
}

const BOARDS: Board[] = [
  bitaxe('102', 'Max', 'BM1397', { efficiency: 30, swarmColor: 'red' }),
  ...['201', '202', '203', '204', '205'].map((v) =>
    bitaxe(v, 'Ultra', 'BM1366', { efficiency: 24, swarmColor: 'purple' }),
  ),
  ...['400', '401', '402', '403'].map((v) =>
    bitaxe(v, 'Supra', 'BM1368', { efficiency: 19.5, swarmColor: 'blue', maxPower: 40 }),
  ),
  ...['302', '303'].map((v) =>
    bitaxe(v, 'UltraHex', 'BM1366', {
      asicCount: 6,
      nominalVoltage: 12000,
      maxPower: 120,
      efficiency: 23,
      swarmColor: 'orange',
      idlePower: 6,
    }),
  ),
  ...['600', '601', '602'].map((v) =>
    bitaxe(v, 'Gamma', 'BM1370', { efficiency: 16.5, swarmColor: 'green', maxPower: 40 }),
  ),
  ...['701', '702'].map((v) =>
    bitaxe(v, 'SupraHex', 'BM1368', {
      asicCount: 6,
      nominalVoltage: 12000,
      maxPower: 120,
      efficiency: 19,
      swarmColor: 'yellow',
      idlePower: 6,
    }),
  ),
  // GammaDuo: two BM1370XP with a narrow window, 350–410 MHz (default 400).
  bitaxe('650', 'GammaDuo', 'BM1370', {
    asicCount: 2,
    nominalVoltage: 12000,
    maxPower: 60,
    efficiency: 16.5,
    swarmColor: 'teal',
    idlePower: 4.5,
    defaultFrequency: 400,
    defaultVoltage: 1150,
    frequencyOptions: [350, 375, 400, 410],
    voltageOptions: [1000, 1060, 1100, 1150, 1200],
  }),
  bitaxe('800', 'GammaTurbo', 'BM1370', {
    asicCount: 2,
    nominalVoltage: 12000,
    maxPower: 60,
    efficiency: 17,
    swarmColor: 'cyan',
    idlePower: 4.5,
  }),
  {
    ...bitaxe('nerdqaxe++', 'NerdQAxe++', 'BM1370', {
      asicCount: 4,
      nominalVoltage: 12000,
      maxPower: 100,
      efficiency: 15.8,
      swarmColor: '#ff9900',
      hostname: 'NerdQAxePlusPlus',
      idlePower: 6,
      defaultFrequency: 600,
      defaultVoltage: 1150,
      frequencyOptions: [500, 525, 550, 575, 600],
      voltageOptions: [1120, 1130, 1140, 1150, 1160, 1170, 1180, 1190, 1200],
    }),
    boardVersion: '',
    family: 'nerdqaxe',
  },
];

export const BOARD_IDS = BOARDS.map((b) => b.id);

export function findBoard(id: string): Board {
  const key = id
    .trim()
    .toLowerCase()
    .replace(/^nerdqaxe\+\+$|^nerdqaxepp$/, 'nerdqaxe++');
  const board = BOARDS.find((b) => b.id === key);
  if (!board) {
    throw new MvmError('USAGE', `unknown board "${id}"`, { hint: `known boards: ${BOARD_IDS.join(', ')}` });
  }
  return board;
}

/** Expected hashrate in GH/s: small cores × ASICs × MHz / 1000 (as AxeOS computes it). */
export function expectedHashrate(board: Board, frequencyMHz: number): number {
  return (board.smallCoreCount * board.asicCount * frequencyMHz) / 1000;
}
