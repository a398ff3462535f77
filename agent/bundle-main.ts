// The agent as one process of its own: the entry point of the bundle the factory starts
// (dist/agent/mvm-agent.cjs, built by agent/build.mjs). It takes the options of `mvm agent run`
// (agent/options.ts) and nothing else, so it loads neither the CLI (yargs) nor any other command:
// a job's agent starts in about the time Node.js itself takes. `mvm agent run` stays the same agent.
import { parseArgs } from 'node:util';
import { describeError, MvmError } from '../shared/errors.js';
import { agentMain, type AgentArgs } from './main.js';
import { AGENT_RUN_CONFLICTS, AGENT_RUN_DESCRIBE, AGENT_RUN_OPTIONS } from './options.js';

function usageText(): string {
  const lines = [`usage: mvm-agent [run] --url URL --workdir DIR [options]`, '', AGENT_RUN_DESCRIBE, ''];
  for (const [name, o] of Object.entries(AGENT_RUN_OPTIONS)) {
    const extra = 'default' in o ? ` [default: ${o.default}]` : 'demandOption' in o ? ' [required]' : '';
    lines.push(`  --${name.padEnd(15)} ${o.describe}${extra}`);
  }
  return lines.join('\n') + '\n';
}

function usage(message: string): MvmError {
  return new MvmError('USAGE', message, { hint: 'run with --help for usage' });
}

/** The command line as `mvm agent run` would read it (the same names, defaults and checks). */
export function parseAgentArgs(argv: string[]): AgentArgs | 'help' {
  const words = argv[0] === 'run' ? argv.slice(1) : argv;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: words,
      options: {
        ...Object.fromEntries(Object.keys(AGENT_RUN_OPTIONS).map((k) => [k, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw usage((err as Error).message);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return 'help';
  const out: Record<string, string | number | undefined> = {};
  const missing: string[] = [];
  for (const [name, o] of Object.entries(AGENT_RUN_OPTIONS)) {
    const given = v[name] as string | undefined;
    let value: string | number | undefined = given ?? ('default' in o ? o.default : undefined);
    if ('demandOption' in o && value === undefined) missing.push(name);
    if ('choices' in o && given !== undefined && !(o.choices as readonly string[]).includes(given))
      throw usage(`--${name} ${JSON.stringify(given)}: choose one of ${o.choices.join(', ')}`);
    if (o.type === 'number' && given !== undefined) {
      value = Number(given);
      if (!Number.isFinite(value)) throw usage(`--${name} ${JSON.stringify(given)} is not a number`);
    }
    out[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  }
  if (missing.length > 0)
    throw usage(`Missing required argument${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  for (const [a, b] of AGENT_RUN_CONFLICTS)
    if (v[a] !== undefined && v[b] !== undefined) throw usage(`Arguments ${a} and ${b} are mutually exclusive`);
  return out as unknown as AgentArgs;
}

async function main(argv: string[]): Promise<number> {
  try {
    const args = parseAgentArgs(argv);
    if (args === 'help') {
      process.stdout.write(usageText());
      return 0;
    }
    await agentMain(args);
  } catch (err) {
    const lines = [`mvm: error: ${err instanceof Error ? err.message : String(err)}`];
    if (err instanceof MvmError && err.hint) lines.push(`  hint: ${err.hint}`);
    if (process.env.MVM_DEBUG && err instanceof Error && err.stack) lines.push(err.stack);
    process.stderr.write(lines.join('\n') + '\n');
    return err instanceof MvmError && err.code === 'USAGE' ? 2 : 1;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`mvm: internal error: ${describeError(err)}\n`);
    process.exit(1);
  },
);
