const { rmSync } = require('node:fs');
const { basename } = require('node:path');

/** Removes the probe cache jest.config.js made for this run (never one the user named). */
module.exports = async () => {
  const folder = process.env.KRYPTON_CACHE_DIR;
  if (folder && basename(folder).startsWith('krypton-test-cache-')) rmSync(folder, { recursive: true, force: true });
};
