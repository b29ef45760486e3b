// REGION … IN IMAGE PIXELS: a rectangle of the source images, converted by their scale to the one
// model-input rectangle the query's grid covers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Krypton } from '../../src/krypton';
import { encodePng, temporaryFolder } from '../image/image-fixtures';
import { tinyClassifier } from '../support/tiny-models';
import { oneLineRejection } from '../support/one-line-rejection';

const folder = temporaryFolder('region-pixels');
let db: Krypton;

async function writeImage(name: string, width: number, height: number, seed: number): Promise<string> {
  const path = join(folder.path, name);
  writeFileSync(path, await encodePng(new Uint8Array(width * height * 3).map((_, i) => (i * seed) % 256), width, height, 3));
  return path;
}

beforeAll(async () => {
  const model = join(folder.path, 'tiny.onnx');
  writeFileSync(model, tinyClassifier({ classes: 3 }));
  db = await open(':memory:');
  await db.query(`CREATE MODEL tiny FROM '${model}' NORMALIZE NONE`);
});
afterAll(async () => {
  await db.close();
  folder.remove();
});

describe('REGION in image pixels', () => {
  it('is the model-pixel region its images scale it to: the same grid, heatmaps and query', async () => {
    // 64x32 images into the 16x16 model: x by 1/4, y by 1/2, so (16, 8, 32, 16) is (4, 4, 8, 8).
    const a = await writeImage('a.png', 64, 32, 37);
    const b = await writeImage('b.png', 64, 32, 91);
    const head = `OCCLUDE ('${a}', '${b}') USING MODEL tiny WITH PATCH 4 STRIDE 2`;
    const inImage = await db.query(`${head} REGION (16, 8, 32, 16) IN IMAGE PIXELS STRATEGY INCREMENTAL INTO by_image`);
    const inModel = await db.query(`${head} REGION (4, 4, 8, 8) IN MODEL PIXELS STRATEGY INCREMENTAL INTO by_model`);
    expect(inImage.rows.map((r) => r.status)).toEqual(['done', 'done']);
    expect(inImage.rows[0].query_id).toBe(inModel.rows[0].query_id);
    const { rows } = await db.query(`
      SELECT i.image_id, i.origin_x, i.origin_y, i.width, i.height, i.heatmap = m.heatmap AS same
      FROM by_image i JOIN by_model m USING (image_id) ORDER BY 1`);
    expect(rows).toEqual([
      { image_id: 'a', origin_x: 4, origin_y: 4, width: 3, height: 3, same: true },
      { image_id: 'b', origin_x: 4, origin_y: 4, width: 3, height: 3, same: true },
    ]);
    const explained = await db.query(`EXPLAIN ${head} REGION (16, 8, 32, 16) IN IMAGE PIXELS STRATEGY INCREMENTAL`);
    expect(explained.rows.map((r) => r.line).join('\n')).toContain('region=(4, 4, 8, 8)<-image(16, 8, 32, 16)');
  });

  it('names the clause, the unit and the image when the region does not fit', async () => {
    const wide = await writeImage('wide.png', 64, 32, 11);
    const square = await writeImage('square.png', 32, 32, 13);
    const statement = (images: string[], region: string) =>
      `OCCLUDE (${images.map((p) => `'${p}'`).join(', ')}) USING MODEL tiny WITH PATCH 4 STRIDE 2 REGION ${region}`;
    expect(await oneLineRejection(db.query(statement([wide], '(0, 0, 900, 10) IN IMAGE PIXELS')))).toBe(
      `line 1, column ${statement([wide], '').length + 1 - 'REGION '.length}: REGION 0, 0, 900, 10 (image pixels) exceeds the 64x32 image ${wide}`,
    );
    expect(await oneLineRejection(db.query(statement([wide, square], '(0, 0, 32, 32) IN IMAGE PIXELS')))).toMatch(
      new RegExp(`: REGION 0, 0, 32, 32 IN IMAGE PIXELS is a different model-input rectangle in different images: \\(0, 0, 8, 16\\) for ${wide} \\(64x32\\), \\(0, 0, 16, 16\\) for ${square} \\(32x32\\); a query has one grid, so occlude images of one size together or give the REGION IN MODEL PIXELS$`),
    );
    expect(await oneLineRejection(db.query(statement([wide], '(0, 0, 8, 8) IN IMAGE PIXELS')))).toMatch(
      /: patch 4x4 is larger than the region \(0, 0, 2, 4\) \(REGION 0, 0, 8, 8 in image pixels is 0, 0, 2, 4 in model-input pixels\)$/,
    );
    // Model pixels are checked against the model input, as before.
    expect(await oneLineRejection(db.query(statement([wide], '(0, 0, 900, 10)')))).toMatch(/: region \(0, 0, 900, 10\) lies outside the 16x16 model-input image$/);
  });

  it('leaves an unreadable image to be reported with the others done', async () => {
    const good = await writeImage('good.png', 64, 32, 5);
    const broken = join(folder.path, 'broken.png');
    writeFileSync(broken, 'not an image');
    const result = await db.query(`OCCLUDE ('${broken}', '${good}') USING MODEL tiny WITH PATCH 4 STRIDE 2 REGION (16, 8, 32, 16) IN IMAGE PIXELS STRATEGY INCREMENTAL INTO with_broken`, { keepGoing: true });
    expect(result.rows.map((r) => r.status)).toEqual(['failed', 'done']);
  });
});
