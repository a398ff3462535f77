#!/bin/bash
# The script of examples/hashrate.yaml. `mvm runner test` runs it in this folder with the
# assigned device in MVM_DEVICE_NAME / _ADDRESS / _DRIVER and the results folder in
# MVM_TEST_OUTPUT_DIR; inside a job, MVM_TESTBED names the testbed and `mvm` is on PATH.
set -o errexit -o nounset -o pipefail

echo "testing ${MVM_DEVICE_NAME} (${MVM_DEVICE_DRIVER}) at ${MVM_DEVICE_ADDRESS}"
mvm runner info --device "$MVM_DEVICE_NAME"
# Kept with the results: what the device reported before the checks.
mvm runner telemetry --device "$MVM_DEVICE_NAME" --json > "$MVM_TEST_OUTPUT_DIR/telemetry-before.json"
