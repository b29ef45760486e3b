/**
 * The explorer's one page: three views (Gallery, Ask, SQL) whose behaviour is the compiled front
 * end (src/web/client, built to dist/browser). Nothing in it is secret: every question to the
 * database goes through the API, which checks the token.
 */
export function explorerPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Krypton explorer</title>
<link rel="icon" href="data:,">
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f4f5f8; }
  body { margin: 0; }
  header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #1d2330; color: #fff; }
  header h1 { font-size: 1.1rem; margin: 0; font-weight: 600; }
  header nav button { background: none; border: 0; color: #c8cede; font: inherit; padding: .3rem .7rem; cursor: pointer; border-radius: 4px; }
  header nav button[aria-selected="true"] { background: #3b4560; color: #fff; }
  header .db { margin-left: auto; color: #9aa3b8; font-size: .85rem; }
  main { padding: 1rem 1.2rem; }
  section[hidden] { display: none; }
  .controls { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: end; margin-bottom: 1rem; }
  .controls label { display: flex; flex-direction: column; font-size: .8rem; color: #505a70; gap: .15rem; }
  input, select, textarea, button { font: inherit; }
  input[type=text], input[type=number], select, textarea { padding: .25rem .4rem; border: 1px solid #b8bfcf; border-radius: 4px; background: #fff; }
  button.primary { background: #2f6fde; color: #fff; border: 0; border-radius: 4px; padding: .35rem .9rem; cursor: pointer; }
  button.primary:disabled { background: #9db6e6; cursor: default; }
  button.secondary { background: #fff; border: 1px solid #b8bfcf; border-radius: 4px; padding: .35rem .9rem; cursor: pointer; }
  .error { color: #b3261e; font-weight: 500; min-height: 1.2em; margin: .3rem 0; }
  .count { font-size: .85rem; color: #505a70; margin-bottom: .5rem; }
  .gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }
  .card { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px #0002; padding: .6rem; }
  .card h3 { margin: 0 0 .3rem; font-size: .95rem; word-break: break-all; }
  .heatmap-view { position: relative; }
  .heatmap-view canvas { display: block; width: 100%; height: auto; image-rendering: auto; }
  .heatmap-view .caption { font-size: .8rem; color: #38415a; margin-top: .3rem; }
  .heatmap-view .caption b { color: #1d2330; }
  .tooltip { position: absolute; z-index: 10; pointer-events: none; background: #1d2330e6; color: #fff; font-size: .75rem; padding: .2rem .4rem; border-radius: 3px; box-sizing: border-box; }
  .legend { display: flex; align-items: center; gap: .4rem; font-size: .8rem; color: #505a70; }
  .legend canvas { width: 160px; height: 12px; border: 1px solid #b8bfcf; }
  .ask { display: grid; grid-template-columns: minmax(300px, 360px) 1fr; gap: 1.2rem; }
  .ask > * { min-width: 0; }
  /* A long class label would otherwise widen its select past the form. */
  .ask label, .ask select { max-width: 100%; min-width: 0; }
  @media (max-width: 760px) { .ask { grid-template-columns: 1fr; } }
  .ask form { display: flex; flex-direction: column; gap: .55rem; }
  .ask form label { display: flex; flex-direction: column; font-size: .8rem; color: #505a70; gap: .15rem; }
  .ask select[multiple] { height: 9rem; }
  .stage { position: relative; max-width: 720px; }
  .stage canvas { display: block; width: 100%; height: auto; cursor: crosshair; }
  .plan { background: #fff; border-radius: 6px; padding: .6rem; font-size: .85rem; margin-top: .6rem; }
  .plan pre { max-height: 14rem; overflow: auto; font-size: .75rem; background: #f4f5f8; padding: .4rem; }
  .progress { margin: .4rem 0; font-size: .85rem; }
  progress { width: 100%; }
  textarea.sql { width: 100%; min-height: 7rem; font-family: ui-monospace, monospace; }
  #sql-result { overflow-x: auto; }
  table.result { border-collapse: collapse; background: #fff; font-size: .8rem; margin-top: .6rem; }
  table.result th, table.result td { border: 1px solid #d5d9e3; padding: .2rem .45rem; text-align: left; max-width: 28rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  table.result th { background: #e8ebf2; }
</style>
</head>
<body>
<header>
  <h1>Krypton explorer</h1>
  <nav>
    <button id="tab-gallery" data-view="gallery" aria-selected="true">Gallery</button>
    <button id="tab-ask" data-view="ask" aria-selected="false">Ask</button>
    <button id="tab-sql" data-view="sql" aria-selected="false">SQL</button>
  </nav>
  <span class="db" id="database"></span>
</header>
<main>
  <section id="view-gallery">
    <div class="controls">
      <label>Table <select id="gallery-table"></select></label>
      <label>Model <select id="gallery-model"><option value="">all</option></select></label>
      <label>Class <select id="gallery-class"><option value="">all</option></select></label>
      <label>Join <input type="text" id="gallery-join" size="30" placeholder="JOIN metadata m USING (image_id)"></label>
      <label>Where <input type="text" id="gallery-where" size="34" placeholder="m.projection = 'pa' AND m.age > 60"></label>
      <button class="primary" id="gallery-apply">Show</button>
      <label>Colour scale <select id="gallery-scale"><option value="fixed">fixed: drop 0–1</option><option value="shared">shared: largest drop shown</option><option value="image">per image</option></select></label>
      <label>Opacity <input type="range" id="gallery-opacity" min="0" max="100" value="55"></label>
      <span class="legend" id="gallery-legend"></span>
    </div>
    <div class="error" id="gallery-error" role="alert"></div>
    <div class="count" id="gallery-count"></div>
    <div class="gallery" id="gallery"></div>
  </section>
  <section id="view-ask" hidden>
    <div class="ask">
      <form id="ask-form">
        <label>Model <select id="ask-model"></select></label>
        <label>Images (the first is shown; drag on it to set REGION) <select id="ask-images" multiple></select></label>
        <label>Upload an image <input type="file" id="ask-upload" accept="image/*,.dcm,.dicom,application/dicom"></label>
        <div class="controls">
          <label>Patch <input type="number" id="ask-patch" value="16" min="1" style="width:5rem"></label>
          <label>Stride <input type="number" id="ask-stride" value="8" min="1" style="width:5rem"></label>
          <label>Colour <select id="ask-color"><option>gray</option><option>black</option><option>mean</option></select></label>
        </div>
        <div class="controls">
          <label>Class <select id="ask-class"><option value="predicted">predicted</option></select></label>
          <label>Quality SSIM ≥ <input type="number" id="ask-quality" step="0.05" min="0" max="1" placeholder="exact" style="width:5rem"></label>
        </div>
        <div class="controls">
          <label>Into table <input type="text" id="ask-into" value="heatmaps" size="12"></label>
          <label>Batch <input type="number" id="ask-batch" min="1" placeholder="auto" style="width:5rem"></label>
          <label title="the frame of a multi-frame DICOM file">Frame <input type="number" id="ask-frame" min="1" value="1" style="width:4rem"></label>
        </div>
        <div>Region: <span id="ask-region">whole image</span> <button type="button" class="secondary" id="ask-clear-region">Clear</button></div>
        <div class="controls">
          <button type="button" class="secondary" id="ask-plan">Plan</button>
          <button type="submit" class="primary" id="ask-run">Run</button>
          <button type="button" class="secondary" id="ask-cancel" disabled>Cancel</button>
        </div>
        <div class="error" id="ask-error" role="alert"></div>
      </form>
      <div>
        <div class="stage" id="ask-stage"></div>
        <div class="legend" id="ask-legend"></div>
        <div class="progress" id="ask-progress"></div>
        <div class="plan" id="ask-plan-box" hidden></div>
      </div>
    </div>
  </section>
  <section id="view-sql" hidden>
    <textarea class="sql" id="sql-text" spellcheck="false">SELECT image_id, model, class_label, base_probability, max_drop FROM heatmaps ORDER BY max_drop DESC LIMIT 20</textarea>
    <div class="controls"><button class="primary" id="sql-run">Run</button><span id="sql-mode"></span></div>
    <div class="error" id="sql-error" role="alert"></div>
    <div id="sql-message"></div>
    <div id="sql-result"></div>
  </section>
</main>
<script type="module" src="/assets/web/client/main.js"></script>
</body>
</html>
`;
}
