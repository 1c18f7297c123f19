import { Command, CommanderError, Option } from 'commander';
import { approve, automation, incidentsList, incidentsShow, reject } from './commands/api.command';
import { iamPolicy } from './commands/iam-policy.command';
import { EXIT, type CliIo } from './commands/io';
import { rca } from './commands/rca.command';
import { validateRunbooks } from './commands/runbook-validate';
import { tokensCreate, tokensList, tokensRevoke } from './commands/tokens.command';

const EXIT_CODES_HELP = `
Exit codes: 0 done; 1 the command ran and the answer is no (problems found, not found, refused,
the service or Redis unreachable); 2 the command line is wrong.
Data goes to stdout, messages to stderr.

Environment: RUNBOOKS_DIR, AWS_REGION, SQS_QUEUE_URL (runbook validate, iam-policy);
REDIS_URL, REDIS_PREFIX (rca, tokens); SERVICE_CATALOG (tokens create); RESPONDER_URL, RESPONDER_TOKEN (your personal token), API_TOKEN
(incidents, approve, reject, pause, resume).`;

/**
 * The `responder` command line. Each command is a small function in commands/; this file only
 * declares them. Commands that call the service's HTTP API act as the person their token belongs to.
 */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('responder')
    .description('Responder: incident-response runbooks for AWS ECS services')
    .showHelpAfterError('(responder --help lists the commands)')
    .addHelpText('after', EXIT_CODES_HELP)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  const done = (code: number) => setExit(code);
  const url = () => new Option('--url <url>', 'the service (default $RESPONDER_URL or http://127.0.0.1:3000)');

  const runbook = program.command('runbook').description('runbook files');
  runbook
    .command('validate')
    .description('validate every runbook in dir, and the service catalog when dir has one')
    .argument('[dir]', 'the runbooks folder (default $RUNBOOKS_DIR or runbooks)')
    .option('--json', 'the result as JSON')
    .action((dir: string | undefined, opts: { json?: boolean }) => done(validateRunbooks(dir ?? io.env.RUNBOOKS_DIR ?? 'runbooks', io.actions, io.out, opts)));

  program
    .command('iam-policy')
    .description('print the least-privilege IAM policy (JSON) for the runbooks in dir, scoped to the catalog')
    .argument('[dir]', 'the runbooks folder (default $RUNBOOKS_DIR or runbooks)')
    .addOption(new Option('--region <region>', 'for ARNs the catalog does not give (default: from the catalog, else $AWS_REGION)').argParser((v) => {
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(v)) throw new CommanderError(EXIT.usage, 'responder.badOption', `--region must be an AWS region such as us-east-1, got "${v}"`);
      return v;
    }))
    .addOption(new Option('--account <id>', 'the AWS account id for ARNs the catalog does not give').argParser((v) => {
      if (!/^\d{12}$/.test(v)) throw new CommanderError(EXIT.usage, 'responder.badOption', `--account must be a 12-digit account id, got "${v}"`);
      return v;
    }))
    .action((dir: string | undefined, opts: { region?: string; account?: string }) => done(iamPolicy(dir, opts, io)));

  program
    .command('rca')
    .description("print (or write) an incident's RCA as markdown, read from Redis")
    .argument('<incident-id>')
    .option('-o, --output <file>', 'write it to a file instead of stdout')
    .option('--json', 'the RCA as data (rca.json)')
    .action(async (id: string, opts: { output?: string; json?: boolean }) => done(await rca(id, opts, io)));

  const incidents = program.command('incidents').description('incidents, through the HTTP API');
  incidents
    .command('list')
    .description('newest first')
    .addOption(new Option('--status <status>', 'only these').choices(['open', 'resolved']))
    .option('--service <name>', 'only this catalog service')
    .option('--limit <n>', 'at most n (1-200, default 50)')
    .option('--json', 'the API answer as JSON')
    .addOption(url())
    .action(async (opts: { status?: string; service?: string; limit?: string; json?: boolean; url?: string }) => done(await incidentsList(opts, io)));
  incidents
    .command('show')
    .description('an incident, its verdict and the steps of its runs')
    .argument('<incident-id>')
    .option('--json', 'the API answer as JSON')
    .addOption(url())
    .action(async (id: string, opts: { json?: boolean; url?: string }) => done(await incidentsShow(id, opts, io)));

  program
    .command('approve')
    .description('approve a step awaiting approval, as the person $RESPONDER_TOKEN belongs to')
    .argument('<incident-id>')
    .argument('<step>', 'the step id, or <runbook>.<step>')
    .option('--hash <paramsHash>', 'the hash of the plan you approve (shown by incidents show)')
    .option('--yes', 'approve the plan as it is now (it is printed on stderr first)')
    .option('--json', 'the API answer as JSON')
    .addOption(url())
    .action(async (id: string, step: string, opts: { hash?: string; yes?: boolean; json?: boolean; url?: string }) => done(await approve(id, step, opts, io)));
  program
    .command('reject')
    .description('reject a step awaiting approval, as the person $RESPONDER_TOKEN belongs to')
    .argument('<incident-id>')
    .argument('<step>', 'the step id, or <runbook>.<step>')
    .option('--reason <text>', 'why, for the timeline')
    .option('--json', 'the API answer as JSON')
    .addOption(url())
    .action(async (id: string, step: string, opts: { reason?: string; json?: boolean; url?: string }) => done(await reject(id, step, opts, io)));

  const tokens = program.command('tokens').description('personal API tokens (in Redis, where the service keeps them): an approval over the API acts as the token’s person');
  tokens
    .command('create')
    .description('create a token for a catalog approver; printed once on stdout, stored only as a SHA-256')
    .argument('<user>', 'a user name or Slack user id of an approver group ($SERVICE_CATALOG or $RUNBOOKS_DIR/service-catalog.yaml)')
    .option('--label <text>', 'where it is used, e.g. laptop')
    .action(async (user: string, opts: { label?: string }) => done(await tokensCreate(user, opts, io)));
  tokens
    .command('list')
    .description('every token: id, user, label, created, revoked (never the secret)')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }) => done(await tokensList(opts, io)));
  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<id>', 'the id tokens list shows')
    .action(async (id: string) => done(await tokensRevoke(id, io)));

  for (const which of ['pause', 'resume'] as const) {
    program
      .command(which)
      .description(which === 'pause' ? 'the kill switch: no mutating step starts, on any replica' : 'let mutating steps start again')
      .option('--reason <text>', 'why, for every open incident’s timeline')
      .option('--by <name>', 'who, with the shared API_TOKEN (default $RESPONDER_USER or $USER); a personal token names its person')
      .addOption(url())
      .action(async (opts: { reason?: string; by?: string; url?: string }) => done(await automation(which, opts, io)));
  }
  return program;
}

/** Runs the command line; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.ok;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and --version end here too, with exit code 0
      if (e.exitCode === 0) return EXIT.ok;
      if (e.code === 'responder.badOption') io.err(`error: ${e.message}\n`);
      return EXIT.usage;
    }
    io.err(`responder: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
}
