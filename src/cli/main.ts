import { Command, CommanderError } from 'commander';
import { heatmapCommand } from './heatmap-command.js';
import { inspectCommand } from './inspect-command.js';
import { workerCommand } from './worker-command.js';
import { serveCommand } from './serve-command.js';
import { zooCommand } from './zoo-command.js';
import { addSessionOptions, reportError, runCommand, startSession, type SessionOptions } from './session.js';
import { processStreams, type CliStreams } from './streams.js';

export function buildProgram(streams: CliStreams = processStreams(), setExitCode: (code: number) => void = () => {}): Command {
  const program = new Command('krypton')
    .description('Occlusion-based explanations of CNN predictions, fast.\nWith neither -c nor a command, reads statements interactively (or from piped stdin).')
    .usage('[options] [command]')
    .showHelpAfterError('(run with --help for usage)')
    // Options before the command belong to krypton, after it to the command: heatmap has its own --json <file> and --quiet.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (text) => streams.stdout.write(text), writeErr: (text) => streams.stderr.write(text) });
  addSessionOptions(program, true).option('-c, --command <statements>', 'run these statements and exit');
  // Commander's own complaint about a stray word would be "too many arguments".
  program.allowExcessArguments().action(async (options: SessionOptions & { command?: string }) => {
    if (program.args.length > 0) throw new CommanderUsage(`unknown command '${program.args[0]}'; statements go in -c '…' or a file for run (see --help)`);
    setExitCode(await startSession(options, streams, options.command === undefined ? { kind: 'repl' } : { kind: 'statements', script: options.command }));
  });
  program.addHelpText('after', `
Exit status: 0 when every statement ran; 1 for a problem with the input (-c and run stop at the first
failing statement; statements piped into the REPL all run, and any failure gives 1); 2 for a bug.
REPL history is kept in ~/.krypton_history, or in $KRYPTON_HISTORY (empty: none).`);
  runCommand(program, streams, setExitCode);
  heatmapCommand(program);
  zooCommand(program);
  inspectCommand(program);
  workerCommand(program, streams);
  serveCommand(program);
  program.hook('preSubcommand', (root, sub) => {
    if (root.opts().command !== undefined) throw new CommanderUsage(`-c cannot be combined with the ${sub.name()} command`);
  });
  for (const command of program.commands) command.exitOverride();
  return program;
}

class CommanderUsage extends CommanderError {
  constructor(message: string) {
    super(1, 'krypton.usage', message);
  }
}

/**
 * Runs the CLI; resolves to the exit code: 0, 1 for a problem the user can fix (printed as one line
 * per problem, never a stack), 2 for a bug in Krypton.
 */
export async function main(argv: readonly string[], streams: CliStreams = processStreams()): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(streams, (code) => { exitCode = code; });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderUsage) {
      streams.stderr.write(`krypton: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof CommanderError) return error.exitCode;
    return await reportError(error, streams.stderr);
  }
}
