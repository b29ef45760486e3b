import { getJson, loadImage, postJson, postStream, request, upload } from './api.js';
import { byId, option, showError } from './dom.js';
import { titleOf, type ResultRow } from './gallery-view.js';
import { HeatmapView, legend, type HeatmapData, type HeatmapGeometry } from './heatmap-view.js';

interface CatalogModel {
  readonly name: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly labels: string[] | null;
}

interface PlanSummary {
  readonly plan: string;
  readonly chosen: string;
  readonly estimate: string;
}

/** A partial heatmap as the run's stream sends it. */
interface HeatmapEvent extends HeatmapGeometry {
  readonly stage: 'all' | 'coarse' | 'fine';
  readonly baseProbability: number;
  readonly values: (number | null)[];
}

/** A row of the statement's result, one per image: the gallery's columns it shares, and its status. */
type OutcomeRow = Pick<ResultRow, 'image_id' | 'image_path' | 'class_index' | 'class_label' | 'base_probability' | 'max_drop' | 'max_drop_x' | 'max_drop_y'> & {
  readonly status: string;
};

interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Ask: pick a model and images, drag a REGION, see the plan and its estimate, run it and watch the heatmap fill in. */
export class AskView {
  private models: CatalogModel[] = [];
  private view?: HeatmapView;
  private shownPath = '';
  private shownFrame = 1;
  private region?: Region;
  private dragStart?: { x: number; y: number };
  private runId?: string;
  /** The shown image's heatmap as last drawn, finished with its stored row once the run is done. */
  private drawn?: { path: string; data: HeatmapData };
  private readonly images = byId<HTMLSelectElement>('ask-images');
  private readonly model = byId<HTMLSelectElement>('ask-model');
  private readonly error = byId('ask-error');
  private readonly progress = byId('ask-progress');
  private readonly planBox = byId('ask-plan-box');
  private readonly cancel = byId<HTMLButtonElement>('ask-cancel');
  private readonly run = byId<HTMLButtonElement>('ask-run');

  constructor(private readonly onStored: (table: string) => void) {
    this.model.addEventListener('change', () => this.fillClasses());
    this.images.addEventListener('change', () => void this.showImage(this.images.selectedOptions[0]?.value));
    byId('ask-frame').addEventListener('change', () => void this.showImage(this.images.selectedOptions[0]?.value));
    byId('ask-upload').addEventListener('change', (event) => void this.upload(event.target as HTMLInputElement));
    byId('ask-clear-region').addEventListener('click', () => this.setRegion(undefined));
    byId('ask-plan').addEventListener('click', () => void this.plan());
    byId('ask-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.start();
    });
    this.cancel.addEventListener('click', () => void this.stop());
  }

  async load(): Promise<void> {
    byId('ask-legend').replaceChildren(legend(1, 'fixed'));
    try {
      this.models = await getJson<CatalogModel[]>('/api/models');
      this.model.replaceChildren(...this.models.map((m) => option(m.name, `${m.name} (${m.inputWidth}×${m.inputHeight})`)));
      this.fillClasses();
      await this.loadImages();
    } catch (error) {
      showError(this.error, error);
    }
  }

  private async loadImages(select?: string): Promise<void> {
    const images = await getJson<{ path: string; name: string }[]>('/api/images');
    const chosen = new Set(select ? [select] : Array.from(this.images.selectedOptions, (o) => o.value));
    this.images.replaceChildren(...images.map((image) => {
      const element = option(image.path, image.name);
      element.selected = chosen.has(image.path);
      return element;
    }));
    if (this.images.selectedOptions.length === 0 && this.images.options.length > 0) this.images.options[0].selected = true;
    await this.showImage(this.images.selectedOptions[0]?.value);
  }

  private fillClasses(): void {
    const labels = this.models.find((m) => m.name === this.model.value)?.labels ?? [];
    byId('ask-class').replaceChildren(option('predicted', 'predicted class'), ...labels.map((label, i) => option(label, `${i}: ${label}`)));
  }

  private async upload(input: HTMLInputElement): Promise<void> {
    const file = input.files?.[0];
    if (!file) return;
    showError(this.error, undefined);
    try {
      const { path } = await upload(file);
      await this.loadImages(path);
    } catch (error) {
      showError(this.error, error);
    } finally {
      input.value = '';
    }
  }

  /** The frame the form names, as the image shows it (1 where the field is not a whole number from 1). */
  private frameShown(): number {
    const frame = Number(byId<HTMLInputElement>('ask-frame').value);
    return Number.isSafeInteger(frame) && frame > 0 ? frame : 1;
  }

  private async showImage(path: string | undefined): Promise<void> {
    const frame = this.frameShown();
    if (!path || (path === this.shownPath && frame === this.shownFrame)) return;
    this.shownPath = path;
    this.shownFrame = frame;
    const image = await loadImage(path, frame).catch((error) => {
      showError(this.error, error);
      return undefined;
    });
    if (!image || this.shownPath !== path || this.shownFrame !== frame) return;
    const view = new HeatmapView(image);
    const first = this.images.selectedOptions[0]?.value;
    view.onDraw = (context) => this.drawRegion(context, path === first);
    const surface = view.surface;
    surface.addEventListener('mousedown', (event) => {
      if (path !== first) return;
      this.dragStart = view.imagePoint(event);
      event.preventDefault();
    });
    surface.addEventListener('mousemove', (event) => {
      if (!this.dragStart) return;
      this.region = rectangle(this.dragStart, view.imagePoint(event), image);
      view.draw();
    });
    const finish = (event: MouseEvent) => {
      if (!this.dragStart) return;
      const region = rectangle(this.dragStart, view.imagePoint(event), image);
      this.dragStart = undefined;
      this.setRegion(region.width >= 2 && region.height >= 2 ? region : undefined);
    };
    surface.addEventListener('mouseup', finish);
    surface.addEventListener('mouseleave', finish);
    this.view = view;
    byId('ask-stage').replaceChildren(view.element);
  }

  private setRegion(region: Region | undefined): void {
    this.region = region;
    byId('ask-region').textContent = region ? `REGION (${region.x}, ${region.y}, ${region.width}, ${region.height}) in image pixels` : 'whole image';
    this.view?.draw();
  }

  private drawRegion(context: CanvasRenderingContext2D, isFirst: boolean): void {
    if (!this.region || !isFirst) return;
    const { x, y, width, height } = this.region;
    const line = Math.max(1, context.canvas.width / 250);
    context.setLineDash([4 * line, 3 * line]);
    context.lineWidth = line;
    context.strokeStyle = '#ffd400';
    context.strokeRect(x, y, width, height);
    context.setLineDash([]);
  }

  private body(): Record<string, unknown> {
    const number = (id: string) => {
      const text = byId<HTMLInputElement>(id).value.trim();
      return text === '' ? undefined : Number(text);
    };
    return {
      model: this.model.value,
      images: Array.from(this.images.selectedOptions, (o) => o.value),
      patch: number('ask-patch'),
      stride: number('ask-stride'),
      color: byId<HTMLSelectElement>('ask-color').value,
      targetClass: byId<HTMLSelectElement>('ask-class').value,
      quality: number('ask-quality'),
      batchSize: number('ask-batch'),
      frame: number('ask-frame'),
      into: byId<HTMLInputElement>('ask-into').value.trim() || undefined,
      region: this.region,
    };
  }

  private showPlan(plan: PlanSummary): void {
    this.planBox.hidden = false;
    this.planBox.replaceChildren();
    const summary = document.createElement('div');
    summary.id = 'ask-estimate';
    summary.textContent = `Planner's choice: ${plan.chosen} — estimated ${plan.estimate} in all`;
    const text = document.createElement('pre');
    text.textContent = plan.plan;
    this.planBox.append(summary, text);
  }

  private async plan(): Promise<void> {
    showError(this.error, undefined);
    try {
      this.showPlan(await postJson<PlanSummary>('/api/plan', this.body()));
    } catch (error) {
      showError(this.error, error);
    }
  }

  private async start(): Promise<void> {
    showError(this.error, undefined);
    const body = this.body();
    this.run.disabled = true;
    this.progress.textContent = 'planning…';
    try {
      await postStream('/api/occlude', body, (event) => this.onEvent(event, body));
    } catch (error) {
      showError(this.error, error);
      this.progress.textContent = '';
    } finally {
      this.run.disabled = false;
      this.cancel.disabled = true;
      this.runId = undefined;
    }
  }

  private onEvent(event: Record<string, unknown>, body: Record<string, unknown>): void {
    switch (event.type) {
      case 'started':
        this.runId = String(event.runId);
        this.cancel.disabled = false;
        this.showPlan(event as unknown as PlanSummary);
        break;
      case 'progress': {
        const { imagesDone, images, positionsDone, positions, tuning } = event as Record<string, number | string | undefined>;
        this.progress.textContent = tuning
          ? `tuning: ${tuning}`
          : `image ${Math.min(Number(imagesDone) + 1, Number(images))} of ${images}: ${positionsDone} of ${positions} positions (${imagesDone} done)`;
        break;
      }
      case 'heatmap':
        void this.fill(event, body);
        break;
      case 'done': {
        const rows = event.rows as OutcomeRow[];
        this.finish(rows, String(body.model));
        this.progress.textContent = `${String(event.message)}`;
        this.progress.dataset.state = 'done';
        this.onStored(String(body.into ?? 'heatmaps'));
        if (rows.some((r) => r.status === 'failed')) showError(this.error, (event.failures as { imageId: string; error: string }[]).map((f) => `${f.imageId}: ${f.error}`).join('; '));
        break;
      }
      case 'cancelled':
        this.progress.textContent = String(event.message);
        this.progress.dataset.state = 'cancelled';
        this.onStored(String(body.into ?? 'heatmaps'));
        break;
      case 'error':
        showError(this.error, event.error);
        this.progress.textContent = '';
        break;
    }
  }

  /** Draws an image's heatmap so far; the image being computed is the one shown. */
  private async fill(event: Record<string, unknown>, body: Record<string, unknown>): Promise<void> {
    const path = String(event.imagePath);
    if (path !== this.shownPath) await this.showImage(path);
    const model = this.models.find((m) => m.name.toLowerCase() === String(body.model).toLowerCase());
    if (!this.view || !model || this.shownPath !== path) return;
    const geometry = event as unknown as HeatmapEvent;
    // Drill-down's first stage runs a lattice of cells: each is shown over the block it stands for.
    const values = geometry.stage === 'coarse' ? holdLattice(geometry.values, geometry.columns, geometry.rows) : geometry.values;
    const data: HeatmapData = { ...geometry, values, modelWidth: model.inputWidth, modelHeight: model.inputHeight, title: `${geometry.stage === 'coarse' ? 'coarse stage' : geometry.stage === 'fine' ? 'fine stage' : 'computing'}…` };
    this.drawn = { path, data };
    this.view.setHeatmap(data);
  }

  /** The shown image's heatmap with what its stored row says: class, probability, the largest drop marked. */
  private finish(rows: readonly OutcomeRow[], model: string): void {
    const row = rows.find((r) => r.image_path === this.drawn?.path && r.status === 'done');
    if (!row || !this.drawn || this.drawn.path !== this.shownPath) return;
    this.view?.setHeatmap({
      ...this.drawn.data, baseProbability: row.base_probability, maxDrop: { x: row.max_drop_x, y: row.max_drop_y }, title: titleOf({ ...row, model }),
    });
  }

  private async stop(): Promise<void> {
    if (!this.runId) return;
    try {
      await request(`/api/runs/${this.runId}/cancel`, { method: 'POST' });
      this.progress.textContent = 'cancelling after the current batch…';
    } catch (error) {
      showError(this.error, error);
    }
  }
}

/** The dragged rectangle in whole image pixels, inside the image. */
function rectangle(from: { x: number; y: number }, to: { x: number; y: number }, image: HTMLImageElement): Region {
  const clamp = (v: number, max: number) => Math.min(Math.max(Math.round(v), 0), max);
  const x0 = clamp(Math.min(from.x, to.x), image.naturalWidth);
  const y0 = clamp(Math.min(from.y, to.y), image.naturalHeight);
  const x1 = clamp(Math.max(from.x, to.x), image.naturalWidth);
  const y1 = clamp(Math.max(from.y, to.y), image.naturalHeight);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Cells not run yet, between run ones, take the value of the nearest run cell above and to the
 * left (the coarse lattice starts at cell 0, 0); cells past the last run one stay empty, so the
 * preview shows nothing that was not computed nearby.
 */
function holdLattice(values: readonly (number | null)[], columns: number, rows: number): (number | null)[] {
  const held = values.slice();
  const knownRows: number[] = [];
  for (let row = 0; row < rows; row++) {
    const cells = values.slice(row * columns, (row + 1) * columns);
    const lastKnown = cells.findLastIndex((v) => v !== null);
    if (lastKnown < 0) continue;
    knownRows.push(row);
    let last: number | null = null;
    for (let column = 0; column <= lastKnown; column++) {
      if (cells[column] !== null) last = cells[column];
      else held[row * columns + column] = last;
    }
  }
  for (let k = 0; k + 1 < knownRows.length; k++) {
    for (let row = knownRows[k] + 1; row < knownRows[k + 1]; row++) {
      for (let column = 0; column < columns; column++) held[row * columns + column] = held[knownRows[k] * columns + column];
    }
  }
  return held;
}
