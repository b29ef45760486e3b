import type { Command } from 'commander';
import { KryptonError } from '../errors.js';
import { DEFAULT_DATABASE } from './session.js';

interface ServeOptions {
  db?: string;
  port: string;
  host: string;
  token?: boolean;
  images: string[];
  allowWrite?: boolean;
  uploadLimit: string;
}

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('the web explorer: browse stored heatmaps, ask new questions by pointing at the image, query in SQL')
    .option('--db <file>', `database file (default: krypton's own --db, else ${DEFAULT_DATABASE})`)
    .option('--port <n>', 'port to listen on (0: any free one)', '8080')
    .option('--host <address>', 'address to listen on; any but loopback needs the token the server prints', '127.0.0.1')
    .option('--token', 'ask for a token on loopback too')
    .option('--images <dir>', 'a folder whose images the page may show and occlude (repeatable)', (dir: string, dirs: string[]) => [...dirs, dir], [] as string[])
    .option('--allow-write', 'let the SQL box change the database (read-only by default)')
    .option('--upload-limit <MB>', 'largest image upload, in MB', '20')
    .action(async (options: ServeOptions, command: Command) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KryptonError(`--port must be a port number (0–65535), got '${options.port}'`);
      const uploadLimit = Number(options.uploadLimit);
      if (!(uploadLimit > 0)) throw new KryptonError(`--upload-limit must be a positive number of MB, got '${options.uploadLimit}'`);
      // The engine and the web server load when the command runs, not for --help or a usage error.
      const { open } = await import('../krypton.js');
      // `krypton --db F serve` means the same as `krypton serve --db F`.
      const db = await open(options.db ?? (command.parent?.opts().db as string | undefined) ?? DEFAULT_DATABASE);
      let explorer;
      try {
        const { startExplorer } = await import('../web/server.js');
        explorer = await startExplorer({
          db, images: options.images, host: options.host, port, requireToken: options.token, allowWrite: options.allowWrite,
          uploadLimitBytes: Math.round(uploadLimit * 1024 * 1024),
        });
      } catch (error) {
        await db.close();
        throw error;
      }
      process.stdout.write(`Krypton explorer on ${explorer.url}\n`);
      if (explorer.token) process.stdout.write(`token: ${explorer.token} (send it with every request: header X-Krypton-Token or ?token=)\n`);
      process.stdout.write(`database ${db.path}${options.allowWrite ? ', SQL box read-write' : ', SQL box read-only'}; images from ${options.images.length ? options.images.join(', ') : 'uploads only'}; Ctrl-C stops\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await explorer.close();
      await db.close();
    });
}
