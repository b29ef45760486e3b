import type { Command } from 'commander';
import { positiveInteger } from './args.js';
import type { CliStreams } from './streams.js';

/**
 * `krypton worker --redis URL`: computes the heatmaps coordinators enqueue, until SIGINT or
 * SIGTERM, which let the jobs under way finish (a second signal leaves at once; BullMQ gives an
 * abandoned job to another worker).
 */
export function workerCommand(program: Command, streams: CliStreams): void {
  program
    .command('worker')
    .description('compute OCCLUDE heatmaps for coordinators that send them to Redis (SET VARIABLE krypton_workers, or --redis)')
    .requiredOption('--redis <url>', 'the Redis the coordinators use, redis://host:port')
    .option('--concurrency <N>', 'images computed at once in this process (the cores are shared among them)', '1')
    .option('--quiet', 'no line per job')
    .action(async (options: { redis: string; concurrency: string; quiet?: boolean }) => {
      const concurrency = positiveInteger('--concurrency', options.concurrency);
      const log = (line: string) => streams.stderr.write(`${line}\n`);
      // BullMQ and ioredis are loaded only by the commands that reach Redis.
      const [{ startOcclusionWorker }, { shownUrl }] = await Promise.all([import('../distributed/occlusion-worker.js'), import('../distributed/occlusion-queue.js')]);
      const worker = await startOcclusionWorker({
        url: options.redis,
        concurrency,
        onJob: options.quiet ? undefined : ({ kind, image, detail }) => log(kind === 'started' ? `started ${image}` : kind === 'done' ? `done ${image} in ${detail}` : `failed ${image}: ${detail}`),
      });
      log(`krypton worker ${process.pid} ready on ${shownUrl(options.redis)} (concurrency ${concurrency})`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) process.exit(130);
          stopping = true;
          log('stopping after the jobs under way (again to leave now)');
          worker.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      log('worker stopped');
    });
}
