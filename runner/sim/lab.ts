// Placeholder until `mvm sim lab` lands in this branch.
import { MvmError } from '../../shared/errors.js';
export async function startLab(_file: string): Promise<{ devices: { kind: string; address: string }[]; close(): Promise<void> }> {
  throw new MvmError('USAGE', '`mvm sim lab` is not available yet');
}
