/**
 * The three standard streams, passed in rather than read from `process` so that the CLI and the
 * REPL can run inside a test with captured output.
 */
export interface CliStreams {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
}

export type OutputStream = NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };

let pipeGuarded = false;

export function processStreams(): CliStreams {
  if (!pipeGuarded) {
    pipeGuarded = true;
    // `krypton … | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        throw error;
      });
    }
  }
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}
