import { Command, CommanderError } from 'commander';
import { isKryptonError, messageOf } from '../errors.js';
import { heatmapCommand } from './heatmap-command.js';
import { inspectCommand } from './inspect-command.js';
import { zooCommand } from './zoo-command.js';

export function buildProgram(): Command {
  const program = new Command('krypton')
    .description('Occlusion-based explanations of CNN predictions, fast')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  heatmapCommand(program);
  zooCommand(program);
  inspectCommand(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the exit code. Problems the user can fix print one line, never a stack. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (isKryptonError(error)) {
      process.stderr.write(`krypton: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`krypton: internal error: ${messageOf(error)}\n`);
    if (process.env.KRYPTON_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 2;
  }
}
