#!/usr/bin/env node
// onnxruntime-node crashes (SIGSEGV) in a process whose command line holds an argument of about
// 30,000 characters or more, so a long -c script would kill the CLI the moment it loads a model.
// Such a command line is handed to a child process in the environment instead.
const LONG_ARGUMENT = 8 * 1024;
const HANDED_OVER = 'KRYPTON_ARGUMENTS';

const handed = process.env[HANDED_OVER];
delete process.env[HANDED_OVER];
const args = handed === undefined ? process.argv.slice(2) : JSON.parse(handed);

if (handed === undefined && args.some((arg) => arg.length > LONG_ARGUMENT)) {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, __filename], {
    stdio: 'inherit',
    env: { ...process.env, [HANDED_OVER]: JSON.stringify(args) },
  });
  // Ctrl-C reaches the child too (same process group), which stops after its batch and exits.
  process.on('SIGINT', () => {});
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal === 'SIGINT' ? 130 : 1);
  });
} else {
  require('../dist/src/cli/main.js').main(args).then(
    (code) => { process.exitCode = code; },
  );
}
