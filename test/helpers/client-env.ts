// An environment for running the `mvm` client in a test with nothing of the machine's own: no
// server, lab or fleet address or token from the environment, no profile name, no colour choice.
export const NO_CLIENT_ENV: Record<string, undefined> = {
  MVM_PROFILE: undefined,
  MVM_PROFILE_NAME: undefined,
  MVM_URL: undefined,
  MVM_TOKEN: undefined,
  MVM_ADMIN_TOKEN: undefined,
  MVM_LAB_URL: undefined,
  MVM_LAB_TOKEN: undefined,
  MVM_FLEET_URL: undefined,
  MVM_FLEET_TOKEN: undefined,
  NO_COLOR: undefined,
  FORCE_COLOR: undefined,
};
