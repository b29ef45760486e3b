import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { KryptonError, messageOf } from '../errors.js';
import { ZOO_ARCHITECTURES, ZOO_DEFAULT_INPUT, type ZooArchitecture } from '../zoo/architecture-names.js';
import { nonNegativeInteger, oneOf, positiveInteger } from './args.js';

export function zooCommand(program: Command): void {
  program
    .command('zoo')
    .description(`write a CNN architecture as ONNX with seeded weights: ${ZOO_ARCHITECTURES.join(', ')}`)
    .argument('<architecture>', ZOO_ARCHITECTURES.join(' | '))
    .requiredOption('--out <file.onnx>', 'where to write the model')
    .option('--input <N>', 'input height = width (default 224; 299 for inception_v3)')
    .option('--seed <S>', 'seed of the weights', '0')
    .option('--classes <N>', 'number of classes', '1000')
    .action(async (architecture: string, options: { out: string; input?: string; seed: string; classes: string }) => {
      const arch = oneOf('architecture', architecture, ZOO_ARCHITECTURES) as ZooArchitecture;
      const input = options.input ? positiveInteger('--input', options.input) : ZOO_DEFAULT_INPUT[arch];
      // The builders (and onnx-proto) load when the command runs, not for --help or a usage error.
      const { buildZooModel } = await import('../zoo/build-zoo-model.js');
      const bytes = buildZooModel(arch, { input, seed: nonNegativeInteger('--seed', options.seed), classes: positiveInteger('--classes', options.classes) });
      try {
        await mkdir(dirname(options.out), { recursive: true });
        await writeFile(options.out, bytes);
      } catch (error) {
        throw new KryptonError(`cannot write ${options.out}: ${messageOf(error)}`, 'io');
      }
      process.stdout.write(`wrote ${options.out}: ${arch}, input 3x${input}x${input}, ${(bytes.length / 1e6).toFixed(1)} MB\n`);
    });
}
