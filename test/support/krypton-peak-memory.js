#!/usr/bin/env node
// The CLI from source (as krypton-from-source.js) that writes its peak resident memory, in bytes,
// to the file $KRYPTON_TEST_PEAK_FILE when it exits. Past $KRYPTON_TEST_RSS_LIMIT bytes it stops
// itself (exit 137), so that a runaway read fails its test instead of exhausting the machine.
const { readFileSync, writeFileSync } = require('node:fs');
require('./register-typescript.js');

const peakFile = process.env.KRYPTON_TEST_PEAK_FILE;
const rssLimit = Number(process.env.KRYPTON_TEST_RSS_LIMIT ?? Infinity);
// VmHWM is this process's own high-water mark: getrusage's maxRSS carries over the RSS the
// spawning process had (a jest worker grown to gigabytes after many test files).
const peak = () => {
  const hwm = /^VmHWM:\s*(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
};
process.on('exit', () => {
  if (peakFile) writeFileSync(peakFile, String(peak()));
});
setInterval(() => {
  if (process.memoryUsage.rss() > rssLimit) process.exit(137);
}, 20).unref();

require('../../src/cli/main.ts').main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
