// The shape of what `mvm runner restore --json` and `mvm runner health --json` print, as TypeBox
// schemas: the types (Static<>) and the source of the plain-data schemas the runner and the factory
// judge by (shared/contracts/judged/, `npm run gen:schemas`), so that neither loads TypeBox or ajv
// to write or read a report (shared/contracts/runner-report.ts).
import { Type, type Static } from '@sinclair/typebox';
import { HEALTH_CHECKS, RESTORE_ACTIONS } from './runner-report.js';

const literals = <T extends string>(names: readonly T[]) => Type.Union(names.map((n) => Type.Literal(n)));

export const RestoreActionSchema = Type.Object({
  action: literals(RESTORE_ACTIONS),
  ok: Type.Boolean(),
  message: Type.String(),
  from: Type.Optional(Type.String()),
  to: Type.Optional(Type.String()),
});

export const DeviceRestoreSchema = Type.Object({
  device: Type.String(),
  ok: Type.Boolean(),
  actions: Type.Array(RestoreActionSchema),
  error: Type.Optional(Type.String()),
});

export const RestoreReportSchema = Type.Object({
  ok: Type.Boolean(),
  testbed: Type.String(),
  devices: Type.Array(DeviceRestoreSchema),
});

export const HealthCheckSchema = Type.Object({
  name: literals(HEALTH_CHECKS),
  ok: Type.Boolean(),
  message: Type.String(),
  measured: Type.Optional(Type.Unknown()),
});

export const DeviceHealthSchema = Type.Object({
  device: Type.String(),
  ok: Type.Boolean(),
  checks: Type.Array(HealthCheckSchema),
});

export const HealthReportSchema = Type.Object({
  ok: Type.Boolean(),
  testbed: Type.String(),
  devices: Type.Array(DeviceHealthSchema),
  summary: Type.String(),
});

export type RestoreAction = Static<typeof RestoreActionSchema>;
export type DeviceRestore = Static<typeof DeviceRestoreSchema>;
export type RestoreReport = Static<typeof RestoreReportSchema>;
export type HealthCheck = Static<typeof HealthCheckSchema>;
export type DeviceHealth = Static<typeof DeviceHealthSchema>;
export type HealthReport = Static<typeof HealthReportSchema>;
