// `mvm job run --spec test.yaml`: a job from an MVM test definition. The factory's API turns the
// definition's devices into a target (refused at once when no testbed can ever satisfy them); the
// definition and the files it names (script, firmware images) go with the job as inputs under
// spec/, keeping their layout; the job's one task runs `mvm runner test` on them, which flashes the
// requested software first and writes JSON and JUnit results into the job's outputs.
import { existsSync } from 'node:fs';
import { readSmallFile } from '../shared/small-file.js';
import { basename, dirname, isAbsolute, join, normalize, relative, resolve } from 'node:path';
import { MvmError } from '../shared/errors.js';
import { loadSpec, MAX_SPEC_BYTES, parseSpecText } from '../runner/device-tests/spec.js';
import { DEFAULT_OUTPUT_RULE, parsePairs, type JobPlan, type RunArgs } from './job-spec.js';
import type { LabFlags } from './factory-api.js';
import { connectLab } from './labs.js';

export interface TestJobArgs extends RunArgs, LabFlags {
  spec: string;
}

interface RequirementTarget {
  target: string;
  description: string;
  testbeds: string[];
}

/** A file the definition names, as an input path under spec/; it must stay inside the definition's folder. */
function specInput(specFile: string, key: string, path: string): { file: string; name: string } {
  const dir = dirname(resolve(specFile));
  const abs = isAbsolute(path) ? path : resolve(dir, path);
  const rel = normalize(relative(dir, abs));
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new MvmError('USAGE', `${specFile}: ${key} ${JSON.stringify(path)} is outside the test definition's folder`, {
      hint: 'the job gets the definition and the files it names as inputs; keep them in its folder (or below it) and name them by relative path',
    });
  }
  return { file: abs, name: join('spec', rel) };
}

export async function planTestJob(args: TestJobArgs, note: (s: string) => void): Promise<JobPlan> {
  for (const flag of ['target', 'script', 'file'] as const) {
    if (args[flag] !== undefined) {
      throw new MvmError('USAGE', `--spec and --${flag} both given`, {
        hint:
          flag === 'target'
            ? "the target follows from the definition's devices; leave --target out"
            : 'a test definition names its own script',
      });
    }
  }
  const spec = loadSpec(args.spec);
  const raw = parseSpecText(readSmallFile(args.spec, 'the test definition', MAX_SPEC_BYTES), args.spec) as {
    script?: unknown;
    devices?: Array<{ image?: unknown }>;
  };
  const inputs: Array<string | { file: string; name: string }> = [
    { file: resolve(args.spec), name: join('spec', basename(args.spec)) },
  ];
  if (typeof raw.script === 'string') inputs.push(specInput(args.spec, 'script', raw.script));
  else if (Array.isArray(raw.script)) {
    // Words of an argv script that name files beside the definition ("./basic.py", "lib/x.py") go too.
    for (const w of raw.script) {
      if (
        typeof w === 'string' &&
        !isAbsolute(w) &&
        (w.startsWith('./') || w.includes('/')) &&
        existsSync(resolve(dirname(resolve(args.spec)), w))
      )
        inputs.push(specInput(args.spec, 'script', w));
    }
  }
  raw.devices?.forEach((d, i) => {
    if (typeof d?.image === 'string') inputs.push(specInput(args.spec, `devices[${i}].image`, d.image));
  });
  inputs.push(...(args.input ?? []));

  const lab = connectLab(args, 'place a test definition');
  const rt = await lab.call<RequirementTarget>('POST', '/v1/requirements', `find a testbed for ${args.spec}`, {
    devices: spec.devices.map((d) => ({
      ...(d.hardware !== undefined ? { hardware: d.hardware } : {}),
      attributes: d.attributes,
    })),
  });
  note(
    `mvm: ${args.spec} needs ${rt.description}: target ${rt.target} (testbeds that can run it: ${rt.testbeds.join(', ')})`,
  );

  const specPath = `"$MVM_INPUT_DIR"/${join('spec', basename(args.spec)).replace(/[^A-Za-z0-9_./-]/g, (c) => `\\${c}`)}`;
  const rules = args['output-rule'] ?? [];
  return {
    submit: {
      name: args.name ?? spec.name,
      target: rt.target,
      tasks: [
        {
          name: spec.name,
          script: `#!/bin/bash\nset -o errexit -o pipefail\nmvm runner test --spec ${specPath}\n`,
          env: parsePairs(args.env, 'env'),
          env_clear: false,
        },
      ],
      output_rules: rules.length ? rules : [DEFAULT_OUTPUT_RULE],
      inputs: [],
      tags: { ...parsePairs(args.tag, 'tag'), 'mvm.spec': basename(args.spec), 'mvm.requirement': rt.description },
    },
    inputs,
    notes: [],
  };
}
