import { getJson, loadImage } from './api.js';
import { byId, option, showError } from './dom.js';
import { HeatmapView, legend, type ScaleMode } from './heatmap-view.js';

/** A results row as the gallery lists it. */
export interface ResultRow {
  readonly query_id: string;
  readonly image_id: string;
  readonly image_path: string;
  /** The frame of a multi-frame DICOM file (1 otherwise). */
  readonly frame: number;
  readonly model: string;
  readonly class_index: number;
  readonly class_label: string | null;
  readonly base_probability: number;
  readonly max_drop: number;
  readonly max_drop_x: number;
  readonly max_drop_y: number;
  readonly patch_w: number;
  readonly patch_h: number;
  readonly stride_x: number;
  readonly stride_y: number;
  readonly width: number;
  readonly height: number;
  readonly origin_x: number;
  readonly origin_y: number;
  readonly strategy: string;
}

interface StoredHeatmap extends ResultRow {
  readonly heatmap: number[];
  readonly model_width: number | null;
  readonly model_height: number | null;
}

export function titleOf(row: Pick<ResultRow, 'image_id' | 'class_label' | 'class_index' | 'base_probability' | 'max_drop' | 'model'>): string {
  return `${row.image_id}: ${row.class_label ?? `class ${row.class_index}`} p=${row.base_probability.toFixed(3)}, largest drop ${row.max_drop.toFixed(3)} (${row.model})`;
}

/** Browse: the results tables, filtered, as heatmaps drawn over their images. */
export class GalleryView {
  private readonly views: HeatmapView[] = [];
  /** The largest drop among the heatmaps shown, for the shared scale. */
  private sharedTop = 1;
  private readonly table = byId<HTMLSelectElement>('gallery-table');
  private readonly model = byId<HTMLSelectElement>('gallery-model');
  private readonly klass = byId<HTMLSelectElement>('gallery-class');
  private readonly scale = byId<HTMLSelectElement>('gallery-scale');
  private readonly opacity = byId<HTMLInputElement>('gallery-opacity');
  private readonly error = byId('gallery-error');
  private readonly grid = byId('gallery');

  constructor() {
    byId('gallery-apply').addEventListener('click', () => void this.show());
    this.table.addEventListener('change', () => {
      this.model.value = '';
      this.klass.value = '';
      void this.show();
    });
    this.model.addEventListener('change', () => void this.show());
    this.klass.addEventListener('change', () => void this.show());
    this.scale.addEventListener('change', () => this.restyle());
    this.opacity.addEventListener('input', () => this.restyle());
  }

  async loadTables(select?: string): Promise<void> {
    try {
      const { results } = await getJson<{ results: { name: string; rows: number }[] }>('/api/tables');
      const current = select ?? this.table.value;
      this.table.replaceChildren(...results.map((t) => option(t.name, `${t.name} (${t.rows})`)));
      if (results.some((t) => t.name === current)) this.table.value = current;
      if (results.length === 0) {
        this.grid.textContent = 'No results tables yet: ask a question, or run OCCLUDE … INTO a table.';
        return;
      }
      await this.show();
    } catch (error) {
      showError(this.error, error);
    }
  }

  private restyle(): void {
    const mode = this.scale.value as ScaleMode;
    for (const view of this.views) {
      view.setScale(mode, this.sharedTop);
      view.setOpacity(Number(this.opacity.value) / 100);
    }
    byId('gallery-legend').replaceChildren(legend(mode === 'shared' ? this.sharedTop : 1, mode));
  }

  async show(): Promise<void> {
    showError(this.error, undefined);
    const table = this.table.value;
    if (!table) return;
    try {
      const answer = await getJson<{ rows: ResultRow[]; matched: number; models: string[]; classes: string[] }>('/api/gallery', {
        table, model: this.model.value, class: this.klass.value,
        join: byId<HTMLInputElement>('gallery-join').value, where: byId<HTMLInputElement>('gallery-where').value,
      });
      keepOptions(this.model, answer.models);
      keepOptions(this.klass, answer.classes);
      this.views.length = 0;
      this.sharedTop = Math.max(1e-6, ...answer.rows.map((r) => r.max_drop));
      this.grid.replaceChildren();
      if (answer.rows.length === 0) this.grid.textContent = 'No heatmaps match.';
      byId('gallery-count').textContent = answer.matched > answer.rows.length
        ? `the newest ${answer.rows.length} of ${answer.matched} heatmaps; narrow them with the filters`
        : `${answer.matched} heatmap${answer.matched === 1 ? '' : 's'}`;
      await Promise.all(answer.rows.map((row) => this.card(table, row)));
      this.restyle();
    } catch (error) {
      // The cards of the filter before would pass for this one's.
      this.views.length = 0;
      this.grid.replaceChildren();
      byId('gallery-count').textContent = '';
      showError(this.error, error);
    }
  }

  private async card(table: string, row: ResultRow): Promise<void> {
    const card = document.createElement('div');
    card.className = 'card';
    card.dataset.imageId = row.image_id;
    const heading = document.createElement('h3');
    heading.textContent = row.image_id;
    card.append(heading);
    this.grid.append(card);
    try {
      const [stored, image] = await Promise.all([
        getJson<StoredHeatmap>('/api/heatmap', { table, query_id: row.query_id, image_path: row.image_path, frame: String(row.frame) }),
        loadImage(row.image_path, row.frame),
      ]);
      const view = new HeatmapView(image);
      view.setOpacity(Number(this.opacity.value) / 100);
      view.setScale(this.scale.value as ScaleMode, this.sharedTop);
      view.setHeatmap({
        columns: stored.width, rows: stored.height, patchWidth: stored.patch_w, patchHeight: stored.patch_h,
        strideX: stored.stride_x, strideY: stored.stride_y, originX: stored.origin_x, originY: stored.origin_y,
        values: stored.heatmap, baseProbability: stored.base_probability,
        // A model dropped since: its grid still tells the input it covered, up to the last strip.
        modelWidth: stored.model_width ?? stored.origin_x + (stored.width - 1) * stored.stride_x + stored.patch_w,
        modelHeight: stored.model_height ?? stored.origin_y + (stored.height - 1) * stored.stride_y + stored.patch_h,
        maxDrop: { x: stored.max_drop_x, y: stored.max_drop_y }, title: titleOf(stored),
      });
      this.views.push(view);
      card.append(view.element);
    } catch (error) {
      const problem = document.createElement('div');
      problem.className = 'error';
      showError(problem, error);
      card.append(problem);
    }
  }
}

/** Replaces a filter's choices, keeping "all" and the current choice. */
function keepOptions(select: HTMLSelectElement, values: readonly string[]): void {
  const current = select.value;
  select.replaceChildren(option('', 'all'), ...values.map((v) => option(v)));
  select.value = values.includes(current) ? current : '';
}
