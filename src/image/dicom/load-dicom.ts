/**
 * LOAD DICOM: the tags of every file a source names, one row each, added to a table. Files the
 * table already holds (by path) are skipped, so loading a folder again adds its new files only.
 * A file that cannot be read is reported and the others load.
 */
import { availableParallelism } from 'node:os';
import { KryptonError, messageOf } from '../../errors.js';
import { resolveImages } from '../../executor/image-source.js';
import type { LoadDicomStatement } from '../../parser/ast.js';
import type { DicomTagRecord, Store } from '../../store/index.js';
import { deidentifyTags } from './deidentify.js';
import { readDicomTags } from './dicom-tags.js';

export interface LoadedFile {
  readonly path: string;
  readonly status: 'loaded' | 'already loaded' | 'failed';
  readonly error?: string;
}

export interface DicomLoad {
  readonly table: string;
  readonly files: readonly LoadedFile[];
  readonly elapsedMs: number;
}

/** Headers are small: reading several at once hides the file system's latency. */
const CONCURRENT_READS = Math.max(4, 2 * availableParallelism());

export async function loadDicom(statement: LoadDicomStatement, store: Store, signal?: AbortSignal): Promise<DicomLoad> {
  const started = performance.now();
  const table = statement.into.sql;
  const { images } = await resolveImages(statement.source, store);
  const loaded = await store.loadedDicomFiles(table);
  const mixed = [...loaded.values()].some((deidentified) => deidentified !== statement.deidentify);
  if (mixed) {
    throw new KryptonError(statement.deidentify
      ? `table ${statement.into.name} holds tags loaded without DEIDENTIFY; load de-identified tags into another table`
      : `table ${statement.into.name} holds de-identified tags; add DEIDENTIFY to load into it, or load into another table`, 'store');
  }
  const key = statement.deidentify ? await store.deidentifyKey() : undefined;
  // One row per file: a source may name several frames of one.
  const paths = [...new Set(images.map(({ path }) => path))];
  const files: LoadedFile[] = paths.map((path) => ({ path, status: loaded.has(path) ? 'already loaded' : 'loaded' }));
  const records: DicomTagRecord[] = [];
  const pending = files.map((file, index) => ({ file, index })).filter(({ file }) => file.status === 'loaded');
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      if (signal?.aborted) throw new KryptonError('LOAD DICOM stopped: nothing was stored', 'interrupted');
      const { file, index } = pending[next++];
      try {
        const tags = await readDicomTags(file.path);
        records.push({ path: file.path, tags: key ? deidentifyTags(tags, key) : tags, deidentified: statement.deidentify });
      } catch (error) {
        files[index] = { path: file.path, status: 'failed', error: messageOf(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_READS, pending.length) }, worker));
  records.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  await store.insertDicomTags(table, records);
  return { table: statement.into.name, files, elapsedMs: performance.now() - started };
}
