-- Krypton demo: where do two real CNNs look?
-- Run from the repository root: npm run demo (results in demo/demo.duckdb, overlays in out/demo/).

-- A chest X-ray AP/PA classifier (SqueezeNet 1.1 transfer-learned on X-rays: gray copied to 3
-- channels, raw 0-255) and the ImageNet SqueezeNet 1.1 (float16, BGR, raw 0-255, ends in Softmax).
DROP MODEL IF EXISTS cxr;
CREATE MODEL cxr FROM 'data/models/cxr-appa-squeezenet1.1.onnx'
  INPUT 224 CHANNELS GRAY SCALE 255 NORMALIZE NONE
  LABELS 'data/models/cxr-appa-labels.txt' OUTPUT LOGITS;
DROP MODEL IF EXISTS squeezenet;
CREATE MODEL squeezenet FROM 'data/models/squeezenet1.1-imagenet-fp16.onnx'
  CHANNELS BGR SCALE 255 NORMALIZE NONE
  LABELS 'data/models/imagenet-labels.txt' OUTPUT PROBABILITIES;

-- Twelve X-rays chosen by their metadata: six of each projection.
CREATE OR REPLACE VIEW demo_xrays AS
SELECT file AS path, image_id FROM (
  SELECT g.file, m.image_id, row_number() OVER (PARTITION BY m.projection ORDER BY m.image_id) AS n
  FROM glob('data/images/chest-xray-hannover/png/*.png') g
  JOIN read_csv('data/images/chest-xray-hannover/metadata.csv') m
    ON m.image_id = regexp_extract(g.file, '([0-9a-f]+)\.png$', 1)
) WHERE n <= 6 ORDER BY image_id;

OCCLUDE (SELECT path, image_id FROM demo_xrays)
  USING MODEL cxr FOR PREDICTED CLASS
  WITH PATCH 16 COLOR GRAY STRIDE 8
  RENDER TO 'out/demo/xray/'
  INTO xray_heatmaps;

-- The same X-rays approximately: Krypton tunes a propagation threshold and drill-down on three of
-- them until every one reaches SSIM 0.9 against its exact heatmap, then runs the rest that way
-- (the tuning is kept in the database; a second run reuses it).
OCCLUDE (SELECT path, image_id FROM demo_xrays)
  USING MODEL cxr FOR PREDICTED CLASS
  WITH PATCH 16 COLOR GRAY STRIDE 8
  QUALITY SSIM >= 0.9
  INTO xray_fast;

-- How close the approximate heatmaps came to the exact ones, measured in SQL on every image, and
-- how much sooner they were done.
SELECT f.strategy, f.tau, f.coarse_stride_x AS coarse_stride, f.drill_fraction, count(*) AS images,
       round(min(krypton_ssim(e.heatmap, f.heatmap, f.width, f.height)), 3) AS min_ssim,
       round(median(krypton_ssim(e.heatmap, f.heatmap, f.width, f.height)), 3) AS median_ssim,
       count(f.ssim) AS measured_while_tuning,
       round(sum(e.elapsed_ms) / sum(f.elapsed_ms), 2) AS speedup_vs_exact
FROM xray_fast f JOIN xray_heatmaps e USING (image_id)
GROUP BY ALL;

-- Twelve more X-rays as a hospital keeps them, DICOM in six encodings: their header tags become a
-- table (a second run adds only new files), and the posterior-anterior digital radiographs are
-- chosen by their tags and occluded straight from the DICOM files.
LOAD DICOM 'data/images/chest-xray-hannover-dicom/*.dcm' INTO dicom_scans;

OCCLUDE (SELECT path, regexp_extract(ImageComments, 'image_id=(.*)', 1) AS image_id
         FROM dicom_scans WHERE ViewPosition = 'PA' AND Modality = 'DX')
  USING MODEL cxr FOR PREDICTED CLASS
  WITH PATCH 16 COLOR GRAY STRIDE 16
  RENDER TO 'out/demo/dicom/'
  INTO dicom_heatmaps;

-- The DICOM heatmaps joined back to their tags: the model's call, by sex and encoding.
SELECT s.PatientSex AS sex, s.TransferSyntaxUID AS transfer_syntax, s.PhotometricInterpretation AS photometric,
       h.image_id, h.class_label, round(h.base_probability, 3) AS probability, round(h.max_drop, 3) AS largest_drop
FROM dicom_heatmaps h JOIN dicom_scans s ON h.image_path = s.path
ORDER BY h.image_id;

-- What the ImageNet model sees in a few photos. Its drops are small beside the X-ray model's, so
-- these overlays share one scale, the lowest to the highest drop among the four photos.
OCCLUDE ('data/images/natural-winml/kitten_224.png', 'data/images/natural-winml/fish.png',
         'data/images/natural-skimage/chelsea.png', 'data/images/natural-skimage/coffee.png')
  USING MODEL squeezenet
  WITH PATCH 32 COLOR MEAN STRIDE 16
  RENDER TO 'out/demo/natural/' SCALE QUERY
  INTO natural_heatmaps;

-- Where does the AP/PA model look, by projection and detector? (centre of the most important patch)
SELECT m.projection, m.modality, count(*) AS images,
       round(avg(h.base_probability), 3) AS confidence,
       round(avg(h.max_drop), 3) AS largest_drop,
       round(avg(h.max_drop_x + h.patch_w / 2)) AS x, round(avg(h.max_drop_y + h.patch_h / 2)) AS y
FROM xray_heatmaps h
JOIN read_csv('data/images/chest-xray-hannover/metadata.csv') m USING (image_id)
GROUP BY ALL ORDER BY ALL;

-- Which band of the image matters most to each projection's prediction?
SELECT m.projection,
       CASE WHEN c.pixel_y < 75 THEN '1 top' WHEN c.pixel_y < 150 THEN '2 middle' ELSE '3 bottom' END AS band,
       round(avg(h.base_probability - c.value), 4) AS mean_drop
FROM heatmap_cells('xray_heatmaps') c
JOIN xray_heatmaps h USING (query_id, image_id)
JOIN read_csv('data/images/chest-xray-hannover/metadata.csv') m USING (image_id)
GROUP BY ALL ORDER BY ALL;

-- The photos: predicted class, confidence and how far one patch can bring it down.
SELECT image_id, class_label, round(base_probability, 3) AS probability, round(max_drop, 3) AS largest_drop,
       max_drop_x AS x, max_drop_y AS y
FROM natural_heatmaps ORDER BY image_id;

-- Where the overlays are.
SELECT 'out/demo/xray/' || image_id || '.png' AS overlay FROM xray_heatmaps
UNION ALL
SELECT 'out/demo/natural/' || image_id || '.png' FROM natural_heatmaps
UNION ALL
SELECT 'out/demo/dicom/' || image_id || '.png' FROM dicom_heatmaps
ORDER BY 1;
