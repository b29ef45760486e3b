import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { CHILD_CLASSES, CHILD_SIZE, childRecords, kill, startChild, useTempDir } from './fixtures.js';

const dir = useTempDir();

test('a writer killed mid-run leaves every finished image whole and nothing half-written', async () => {
  const database = join(dir(), 'killed.duckdb');
  const { child, lines } = await startChild('insert', database, /^done 24$/);
  // Let it run on, so the kill lands at an arbitrary point of an insert.
  await new Promise((resolve) => setTimeout(resolve, 150));
  await kill(child);
  const reported = lines.filter((line) => line.startsWith('done ')).length;
  expect(reported).toBeGreaterThanOrEqual(25);

  const store = await openStore(database);
  try {
    const counts = await store.query(
      `SELECT image_path, count(*) AS classes FROM heatmaps WHERE query_id = 'crash' GROUP BY image_path`,
    );
    const stored = counts.rows.length;
    // Every image the child reported is there; at most the one in flight beyond that.
    expect(stored).toBeGreaterThanOrEqual(reported);
    expect(stored).toBeLessThanOrEqual(reported + 1);
    expect(counts.rows.every((row) => row.classes === CHILD_CLASSES)).toBe(true);

    const { rows } = await store.query(
      `SELECT image_path, class_index, heatmap FROM heatmaps ORDER BY image_path, class_index`,
    );
    for (let image = 0; image < stored; image++) {
      for (const expected of childRecords(image)) {
        const row = rows.find((r) => r.image_path === expected.imagePath && r.class_index === expected.classIndex);
        expect(row).toBeDefined();
        const heatmap = row?.heatmap as number[];
        expect(heatmap).toHaveLength(CHILD_SIZE * CHILD_SIZE);
        expect(Float32Array.from(heatmap)).toEqual(expected.heatmap);
      }
    }
    // The reopened file is writable, and a rerun resumes after the last whole image.
    const done = await store.completedImages('heatmaps', 'crash');
    expect(done.size).toBe(stored);
    const rerun = await store.insertHeatmaps('heatmaps', [...childRecords(0), ...childRecords(stored)]);
    expect(rerun).toEqual({ inserted: CHILD_CLASSES, skipped: CHILD_CLASSES, replaced: 0 });
  } finally {
    await store.close();
  }
});
