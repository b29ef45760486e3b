import { getJson } from './api.js';
import { AskView } from './ask-view.js';
import { byId } from './dom.js';
import { GalleryView } from './gallery-view.js';
import { SqlView } from './sql-view.js';

const views = ['gallery', 'ask', 'sql'] as const;

function showView(name: (typeof views)[number]): void {
  for (const view of views) {
    byId(`view-${view}`).hidden = view !== name;
    byId(`tab-${view}`).setAttribute('aria-selected', String(view === name));
  }
}

async function start(): Promise<void> {
  const gallery = new GalleryView();
  const sql = new SqlView();
  const ask = new AskView((table) => void gallery.loadTables(table));
  for (const view of views) byId(`tab-${view}`).addEventListener('click', () => showView(view));
  try {
    const info = await getJson<{ database: string; allowWrite: boolean }>('/api/info');
    byId('database').textContent = info.database;
    sql.setMode(info.allowWrite);
  } catch (error) {
    byId('gallery-error').textContent = error instanceof Error ? error.message : String(error);
    return;
  }
  await Promise.all([gallery.loadTables(), ask.load()]);
  document.body.dataset.ready = 'true';
}

void start();
