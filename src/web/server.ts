import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { glob } from 'tinyglobby';
import { isKryptonError, KryptonError, messageOf } from '../errors.js';
import { DEFAULT_MAX_IMAGE_PIXELS, imageError, PIXELS_VARIABLE } from '../image/decode-image.js';
import { decodeDicomImage, hasDicomMarker, isDicomName } from '../image/dicom/index.js';
import { imageFileCap, limitFromEnvironment, readRegularFile, formatBytes } from '../io/read-regular-file.js';
import { checkScript, SyntaxErrors, type Krypton, type StatementResult } from '../krypton.js';
import { readLabels } from '../model/labels.js';
import { quoteString } from '../store/index.js';
import { occludeOptionsOf } from './ask-request.js';
import { ImageAccess } from './image-access.js';
import { jsonRows } from './json-values.js';
import { OccludeRuns, planSummary } from './occlude-runs.js';
import { explorerPage } from './page.js';
import { checkReadOnly } from './read-only-sql.js';
import { frameParameter, galleryCountQuery, galleryQuery, resultsTable, resultsTables, storedHeatmap } from './results-tables.js';
import { statusOf, WebError } from './web-error.js';

export interface ExplorerOptions {
  readonly db: Krypton;
  /** Folders whose images the page may show and occlude. */
  readonly images?: readonly string[];
  /** Default 127.0.0.1; any other address needs the token the server makes. */
  readonly host?: string;
  /** Default 8080; 0 for any free port. */
  readonly port?: number;
  /** Ask for the token on loopback too. */
  readonly requireToken?: boolean;
  /**
   * Statements that change the database run from the SQL box; refused by default, and then DuckDB
   * itself may read files only under the image folders (enable_external_access is turned off for
   * the rest of the database's life in this process, so read_csv('/etc/passwd') fails too).
   */
  readonly allowWrite?: boolean;
  /** Largest upload; default 20 MB. */
  readonly uploadLimitBytes?: number;
  /** Largest JSON request body; default 1 MB. */
  readonly bodyLimitBytes?: number;
}

export interface Explorer {
  readonly app: FastifyInstance;
  /** Where the page is, with the token when one is needed. */
  readonly url: string;
  readonly token?: string;
  readonly uploads: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const MIB = 1024 * 1024;
const IMAGE_FILES = '**/*.{png,jpg,jpeg,webp,tif,tiff,gif,bmp,dcm,dicom,PNG,JPG,JPEG,WEBP,TIF,TIFF,GIF,BMP,DCM,DICOM}';
const MAX_LISTED_IMAGES = 2000;
const MAX_SQL_ROWS = 1000;
/** Formats a browser draws as they are; others are sent as PNG. */
const BROWSER_FORMATS: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' };

/** The compiled front end, beside the compiled server in the package (dist/browser), found from this file up. */
function clientAssets(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dir, 'dist', 'browser');
}

/** The explorer, listening; its address is in `url`. */
export async function startExplorer(options: ExplorerOptions): Promise<Explorer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.requireToken || !LOOPBACK.has(host) ? randomBytes(24).toString('hex') : undefined;
  const access = await ImageAccess.of(options.images ?? []);
  const uploads = await realpath(await mkdtemp(join(tmpdir(), 'krypton-uploads-')));
  access.add(uploads);
  if (!options.allowWrite) await confineFileAccess(options.db, access.roots);
  const runs = new OccludeRuns(options.db);
  const app = buildApp(options, access, runs, uploads, token);
  try {
    await app.listen({ host, port: options.port ?? 8080 });
  } catch (error) {
    await rm(uploads, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new WebError(400, `port ${options.port} on ${host} is in use; choose another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new WebError(400, `cannot listen on ${host}: no such address on this machine`);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    app, token, uploads,
    url: `http://${shown}:${port}/${token ? `?token=${token}` : ''}`,
    async close() {
      runs.cancelAll();
      await app.close();
      await rm(uploads, { recursive: true, force: true });
    },
  };
}

function buildApp(options: ExplorerOptions, access: ImageAccess, runs: OccludeRuns, uploads: string, token: string | undefined): FastifyInstance {
  const { db } = options;
  const uploadLimit = options.uploadLimitBytes ?? 20 * MIB;
  const bodyLimit = options.bodyLimitBytes ?? MIB;
  const app = Fastify({ logger: false, bodyLimit });
  const assets = clientAssets();

  app.addContentTypeParser(/^(application\/octet-stream|application\/dicom|image\/[\w.+-]+)$/, { parseAs: 'buffer', bodyLimit: uploadLimit }, (_request, body, done) => done(null, body));

  // The page and its scripts are the same for everyone; every question to the database needs the token.
  app.addHook('onRequest', async (request, reply) => {
    if (!token || request.url === '/' || request.url.startsWith('/?') || request.url.startsWith('/assets/')) return;
    const query = request.query as Record<string, unknown>;
    const given = request.headers['x-krypton-token'] ?? (typeof query.token === 'string' ? query.token : undefined);
    if (typeof given !== 'string' || !sameToken(given, token)) {
      return reply.code(401).send({ error: 'missing or wrong token: send the token krypton serve printed, in the X-Krypton-Token header or ?token=' });
    }
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (isKryptonError(error)) return reply.code(statusOf(error)).send({ error: error.message });
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const uploading = request.url.startsWith('/api/uploads');
      return reply.code(status).send({ error: requestProblem(error, uploading ? { upload: uploadLimit } : { json: bodyLimit }) });
    }
    return reply.code(500).send({ error: `internal error: ${messageOf(error)}` });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no such page or endpoint: ${request.method} ${request.url.split('?')[0]}` }));

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(explorerPage()));
  app.get('/assets/*', async (request, reply) => {
    const wanted = (request.params as Record<string, string>)['*'];
    if (!existsSync(assets)) throw new WebError(500, `the web page is not built (${assets} is missing): run npm run build`);
    const root = await realpath(assets);
    const file = await realpath(resolve(root, wanted)).catch(() => undefined);
    if (!file || !file.startsWith(root + sep) || extname(file) !== '.js') throw new WebError(404, `no such asset: ${wanted}`);
    return reply.type('text/javascript; charset=utf-8').send(await readFile(file));
  });

  app.get('/api/info', async () => ({ database: db.path, allowWrite: Boolean(options.allowWrite), imageFolders: access.roots, uploadLimitBytes: uploadLimit }));

  app.get('/api/tables', async () => ({ results: (await resultsTables(db)).map(({ name, rows }) => ({ name, rows })), tables: await db.listTables() }));

  app.get('/api/gallery', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const table = await resultsTable(db, query.table);
    const filter = { model: query.model, classLabel: query.class, join: query.join, where: query.where, limit: Number(query.limit ?? 60) };
    const rows = await readOnly(db, galleryQuery(table, filter));
    const { matched } = (await readOnly(db, galleryCountQuery(table, filter))).rows[0];
    const facets = await db.query(`SELECT list(DISTINCT model ORDER BY model) AS models, list(DISTINCT coalesce(class_label, 'class ' || class_index) ORDER BY 1) AS classes FROM ${table.sql}`);
    return { rows: jsonRows(rows.rows), matched, models: facets.rows[0].models ?? [], classes: facets.rows[0].classes ?? [] };
  });

  app.get('/api/heatmap', async (request) => {
    const query = request.query as Record<string, unknown>;
    const table = await resultsTable(db, query.table);
    return jsonRows([await storedHeatmap(db, table, query.query_id, query.image_path, query.frame)])[0];
  });

  app.get('/api/models', async () => {
    const { rows } = await db.query('SELECT name, path, input_width, input_height, channels, labels_path FROM krypton_models ORDER BY lower(name)');
    return Promise.all(rows.map(async (row) => ({
      name: row.name, inputWidth: row.input_width, inputHeight: row.input_height, channels: row.channels,
      labels: row.labels_path ? await readLabels(String(row.labels_path)).catch(() => null) : null,
    })));
  });

  app.get('/api/images', async () => {
    const files: string[] = [];
    for (const root of access.roots) {
      const found = await glob(IMAGE_FILES, { cwd: root, absolute: true, followSymbolicLinks: false });
      files.push(...found.sort());
      if (files.length >= MAX_LISTED_IMAGES) break;
    }
    return files.slice(0, MAX_LISTED_IMAGES).map((path) => ({ path, name: relative(access.roots.find((r) => path.startsWith(r + sep)) ?? '', path) }));
  });

  app.get('/api/image', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const path = await access.resolve(query.path);
    const frame = frameParameter(query.frame);
    const bytes = await readRegularFile(path, imageFileCap(), ({ problem }) => imageError(path, problem));
    reply.header('cache-control', 'no-cache');
    // A browser cannot draw DICOM: it gets the displayed image the engine occludes, as PNG.
    if (hasDicomMarker(bytes) || isDicomName(path)) {
      const gray = await decodeDicomImage(bytes, path, limitFromEnvironment(PIXELS_VARIABLE, DEFAULT_MAX_IMAGE_PIXELS), PIXELS_VARIABLE, frame);
      return reply.type('image/png').send(await sharp(gray.data, { raw: { width: gray.width, height: gray.height, channels: 1 } }).toColourspace('b-w').png().toBuffer());
    }
    if (frame !== 1) throw new WebError(400, `'${path}' has 1 frame: frame ${frame} does not exist (only DICOM files hold several)`);
    const format = await sharp(bytes).metadata().then((m) => m.format, () => undefined);
    if (format === undefined) throw new WebError(415, `'${path}' is not an image the page can show`, 'image');
    const type = BROWSER_FORMATS[format];
    return type ? reply.type(type).send(bytes) : reply.type('image/png').send(await sharp(bytes).png().toBuffer());
  });

  app.post('/api/plan', async (request) => {
    const { options: occlude } = await occludeOptionsOf(request.body, db, access);
    return planSummary(await db.explain(occlude));
  });

  app.post('/api/occlude', async (request, reply) => {
    const { options: occlude, batchSize } = await occludeOptionsOf(request.body, db, access);
    // Planned before the stream starts, so a request the planner refuses gets its 4xx and one line.
    const plan = planSummary(await db.explain(occlude));
    reply.hijack();
    await runs.stream(reply.raw, occlude, plan, batchSize);
  });

  app.post('/api/runs/:id/cancel', async (request) => {
    const { id } = request.params as { id: string };
    if (!runs.cancel(id)) throw new WebError(404, `no run ${id} is in progress (it may have finished)`);
    return { cancelled: id };
  });

  app.post('/api/sql', async (request) => {
    const body = request.body as Record<string, unknown> | null;
    if (!body || typeof body !== 'object' || typeof body.sql !== 'string' || body.sql.trim() === '') throw new WebError(400, "the request body must be {\"sql\": \"…\"}");
    const results = await runScript(db, body.sql, Boolean(options.allowWrite));
    const last = results[results.length - 1];
    if (!last) throw new WebError(400, 'nothing to run: the text has no statements');
    return {
      columns: last.columns, rows: jsonRows(last.rows.slice(0, MAX_SQL_ROWS)), rowCount: last.rows.length,
      message: results.map((r) => r.message).filter(Boolean).join('; ') || undefined, plan: last.plan,
    };
  });

  app.post('/api/uploads', async (request) => {
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new WebError(400, 'an upload is the image file itself as the request body (Content-Type image/… or application/octet-stream)');
    const name = String((request.query as Record<string, unknown>).name ?? 'upload').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60) || 'upload';
    const { format, width, height } = await uploadedImage(body, name);
    const path = join(uploads, `${name}-${randomBytes(4).toString('hex')}.${format}`);
    await writeFile(path, body, { flag: 'wx' });
    return { path, width, height };
  });

  return app;
}

/** An upload's size and the extension it is kept under; a DICOM file must decode as the engine will decode it. */
async function uploadedImage(body: Buffer, name: string): Promise<{ format: string; width: number; height: number }> {
  if (hasDicomMarker(body)) {
    const { width, height } = await decodeDicomImage(body, `${name}.dcm`, limitFromEnvironment(PIXELS_VARIABLE, DEFAULT_MAX_IMAGE_PIXELS), PIXELS_VARIABLE);
    return { format: 'dcm', width, height };
  }
  const meta = await sharp(body).metadata().catch(() => undefined);
  if (!meta?.format || !meta.width || !meta.height) throw new WebError(400, 'the upload is not an image that can be read (PNG, JPEG, WebP, TIFF, GIF, DICOM)', 'image');
  return { format: meta.format === 'jpeg' ? 'jpg' : meta.format, width: meta.width, height: meta.height };
}

/**
 * DuckDB reads files for SQL (read_csv, read_parquet, ATTACH, COPY): off beyond the image folders.
 * DuckDB cannot turn it back on while the database is open, so a second server on the same
 * database keeps the folders of the first.
 */
async function confineFileAccess(db: Krypton, folders: readonly string[]): Promise<void> {
  const { rows } = await db.query("SELECT current_setting('enable_external_access') AS enabled");
  if (rows[0].enabled === false) return;
  const list = folders.map((folder) => quoteString(folder.endsWith(sep) ? folder : folder + sep)).join(', ');
  await db.query(`SET allowed_directories = [${list}]`);
  await db.query('SET enable_external_access = false');
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One line for what fastify refuses before a route runs. */
function requestProblem(error: Error & { code?: string }, limit: { json: number } | { upload: number }): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'upload' in limit
        ? `the upload is too large: at most ${formatBytes(limit.upload)} (krypton serve --upload-limit)`
        : `request body too large: at most ${formatBytes(limit.json)} of JSON`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `unsupported Content-Type: send JSON (application/json), or an upload as image/… or application/octet-stream`;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the request body is empty; send a JSON object';
    default:
      return error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? `malformed JSON in the request body: ${messageOf(error)}` : messageOf(error);
  }
}

/** One SELECT (checked by read-only-sql.ts), whatever the server's write setting: the gallery only reads. */
async function readOnly(db: Krypton, sql: string): Promise<StatementResult> {
  const [result] = await runScript(db, sql, false);
  return result;
}

/** A script from the SQL box: every statement checked for syntax first, and when read-only, for reading only, before any runs. */
async function runScript(db: Krypton, sql: string, allowWrite: boolean): Promise<StatementResult[]> {
  const { statements, errors } = await checkScript(sql);
  if (errors.length > 0) throw new SyntaxErrors(errors.map((e) => e.message));
  if (!allowWrite) for (const statement of statements) await checkReadOnly(db, statement);
  const results: StatementResult[] = [];
  for (const statement of statements) {
    try {
      results.push(await db.runStatement(statement));
    } catch (error) {
      // DuckDB's messages do not say where the statement was; in a script of several, say it as the CLI does.
      if (statements.length < 2 || !isKryptonError(error) || /^line \d+/.test(error.message)) throw error;
      throw new KryptonError(`line ${statement.position.line}: ${error.message}`, error.code);
    }
  }
  return results;
}
