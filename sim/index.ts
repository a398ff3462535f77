// In-process simulators for tests and benches: start one (or a thousand) without a child process.
// Each returns its address, its device model (state you can inspect and change) and close().
export { startAxeosSim, type AxeosSim, type AxeosSimOptions } from './axeos/index.js';
export { AxeosDevice, type PartitionLabel, type PowerState } from './axeos/device.js';
export { BOARD_IDS, findBoard, expectedHashrate, type Board } from './axeos/boards.js';
export { featuresOf, type FirmwareFeatures } from './axeos/firmware.js';
export { startCgminerSim, answer as cgminerAnswer, type CgminerSim, type CgminerSimOptions } from './cgminer/index.js';
export { CgminerDevice } from './cgminer/device.js';
export { startNmminerSim, type NmminerSim, type NmminerSimOptions } from './nmminer/index.js';
export { NmminerDevice } from './nmminer/device.js';
export { startLab, planLab, type Lab, type LabDevice } from './inventory-sims.js';
export { serialFlash } from './serial-flash.js';
export { FAULT_NAMES, FAULT_HELP, parseFault, parseFaults, type FaultName, type FaultMap } from './common/faults.js';
export { startOctopusSim, parseOctopusFaults, type OctopusSim, type OctopusSimOptions } from './octopus/index.js';
export { agilePrice, publishedUntil, hasPlunge, plungeSlot, REGIONS, type Region } from './octopus/prices.js';
