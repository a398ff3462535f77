// `mvm job`: submit jobs to a buildomat-compatible job server and follow them. Options are defined
// here; the work is imported only when a command runs.
import type { Argv, CommandModule } from 'yargs';
import { defineCommand, demandedPositional, withJson } from './command.js';
import { withConnection, withLab } from './options.js';

const user = <T>(y: Argv<T>) => withConnection(y, 'MVM_TOKEN');
const cancelOnInterrupt = <T>(y: Argv<T>) =>
  y.option('cancel-on-interrupt', {
    type: 'boolean',
    describe: 'SIGINT/SIGTERM while waiting cancel the job on the server (default: when CI=true)',
  });
const jobArg = <T>(y: Argv<T>) => demandedPositional(y, 'job', { type: 'string', describe: 'job id' });

const run = defineCommand({
  command: 'run',
  describe: 'submit a job that runs a script (or a buildomat job file) on a target',
  builder: (y) =>
    cancelOnInterrupt(withLab(withJson(user(y))))
      .option('target', { type: 'string', describe: 'target name (or id); a job file header may give it' })
      .option('spec', {
        type: 'string',
        describe: 'an MVM test definition (YAML/JSON): its devices pick the testbed (needs the factory API: --lab-url)',
      })
      .option('script', { type: 'string', describe: 'bash script the job runs' })
      .option('file', {
        type: 'string',
        describe: 'buildomat job file (.github/buildomat/jobs/*.sh) with a #: TOML header',
      })
      .option('name', { type: 'string', describe: 'job name (default: the job file header, or the script name)' })
      .option('input', { type: 'string', array: true, describe: 'file to upload as a job input (repeatable)' })
      .option('output-rule', {
        type: 'string',
        array: true,
        describe: 'output rule, e.g. "/work/output/**/*" (repeatable; default /work/output/**/*)',
      })
      .option('env', { type: 'string', array: true, describe: 'KEY=VALUE for the task environment (repeatable)' })
      .option('tag', { type: 'string', array: true, describe: 'KEY=VALUE tag on the job (repeatable)' })
      .option('wait', {
        type: 'boolean',
        default: false,
        describe:
          'follow the events until the job ends; exit 1 if it failed (with --json: ends with one result object)',
      })
      .option('outputs', {
        type: 'string',
        describe: 'download the outputs into this directory (implies --wait); the JUnit report lands as DIR/junit.xml',
      })
      .option('flatten', {
        type: 'boolean',
        describe:
          "--outputs drops the outputs' common folders: DIR/junit.xml, not DIR/work/output/junit.xml (default: when CI=true)",
      })
      .example('$0 job run --target bitaxe --script test.sh --wait --outputs out', '')
      .example('$0 job run --file .github/buildomat/jobs/hw.sh --input fw.bin --wait', '')
      .example('$0 job run --spec tests/hashrate.yaml --wait --outputs results', ''),
  handler: async (args) => {
    const { runJob } = await import('./job-run.js');
    await runJob(args);
  },
});

const list = defineCommand({
  command: 'list',
  describe: 'list jobs, most recent first',
  builder: (y) =>
    withJson(user(y)).option('limit', { type: 'number', default: 50, describe: 'at most this many jobs' }),
  handler: async (args) => {
    const { listJobs } = await import('./job-actions.js');
    await listJobs(args);
  },
});

const show = defineCommand({
  command: 'show <job>',
  describe: 'show a job: state, target, tasks',
  builder: (y) => withJson(user(jobArg(y))),
  handler: async (args) => {
    const { showJob } = await import('./job-actions.js');
    await showJob(args);
  },
});

const log = defineCommand({
  command: 'log <job>',
  describe: "print a job's events",
  builder: (y) =>
    cancelOnInterrupt(withJson(user(jobArg(y)))).option('follow', {
      alias: 'f',
      type: 'boolean',
      default: false,
      describe: 'keep printing until the job ends; exit 1 if it failed',
    }),
  handler: async (args) => {
    const { jobLog } = await import('./job-actions.js');
    await jobLog(args);
  },
});

const cancel = defineCommand({
  command: 'cancel <job>',
  describe: 'cancel a job (it ends failed, marked cancelled)',
  builder: (y) => withJson(user(jobArg(y))),
  handler: async (args) => {
    const { cancelJob } = await import('./job-actions.js');
    await cancelJob(args);
  },
});

const outputs = defineCommand({
  command: 'outputs <job>',
  describe: "list a job's outputs, or download them",
  builder: (y) =>
    withJson(user(jobArg(y)))
      .option('download', {
        type: 'string',
        describe: 'download every output into this directory (as DIR/<output path>)',
      })
      .option('flatten', {
        type: 'boolean',
        default: false,
        describe: "with --download: drop the outputs' common folders (DIR/junit.xml)",
      })
      .option('file', {
        type: 'string',
        describe: 'copy one output (its path, or a unique file name such as junit.xml) to stdout, or to --to',
      })
      .option('to', { type: 'string', describe: 'with --file: write the output to this file' })
      .conflicts('file', 'download')
      .example('$0 job outputs JOB --file junit.xml --to junit.xml', ''),
  handler: async (args) => {
    const { jobOutputs } = await import('./job-actions.js');
    await jobOutputs(args);
  },
});

export const command: CommandModule = {
  command: 'job',
  describe: 'submit and follow jobs',
  builder: (y) =>
    y
      .command(run)
      .command(list)
      .command(show)
      .command(log)
      .command(cancel)
      .command(outputs)
      .demandCommand(1, 'name a job command: run, list, show, log, cancel, outputs')
      .epilog(
        'The server URL and token come from --url/--token, else MVM_URL/MVM_TOKEN, else the profile ' +
          '(MVM_PROFILE or ~/.config/mvm/profile.toml: url = "…", token = "…"). See doc/cli.md.',
      ),
  handler: () => undefined,
};
