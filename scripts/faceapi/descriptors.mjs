#!/usr/bin/env node
// descriptors.mjs computes face descriptors with @vladmandic/face-api's own faceRecognitionNet, in
// Node, on a pure-JS (cpu) or WASM tfjs backend: the reference the converted SavedModel is checked
// against (scripts/crosscheck_faceapi.py drives it).
//
// Inputs are float32 .npy files of shape (150, 150, 3): RGB pixels 0..255 already cut to the
// network's size, so face-api's toBatchTensor neither pads nor resizes them. Output: one JSON line
// per input, {"image": <the .npy path as given>, "embedding": [128 numbers]}, on stdout; versions
// and the backend go to stderr.
//
// No network access: the weights are read from the package's model/ directory and the WASM
// binaries from @tensorflow/tfjs-backend-wasm's dist/ directory.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';

import { readNpy } from './npy.mjs';
import { BACKENDS, loadFaceApi } from './runtime.mjs';

const USAGE = `usage: node descriptors.mjs --package DIR [--backend cpu|wasm] [--list FILE] [FILE.npy ...]

  --package DIR   the installed face-api package, e.g. build/node/node_modules/@vladmandic/face-api
                  (@tensorflow/tfjs and @tensorflow/tfjs-backend-wasm must resolve from it)
  --backend NAME  tfjs backend: cpu (pure JavaScript, default) or wasm
  --list FILE     a file with one .npy path per line, read before the positional paths
  -h, --help      this text

Each .npy must be little-endian float32 of shape (150, 150, 3), RGB 0..255.`;

const SIZE = 150;

class UsageError extends Error {}

function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        package: { type: 'string' },
        backend: { type: 'string', default: 'cpu' },
        list: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err.message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (!values.package) throw new UsageError('--package is required');
  if (!BACKENDS.includes(values.backend)) {
    throw new UsageError(`--backend ${values.backend}: want one of ${BACKENDS.join(', ')}`);
  }
  const files = [];
  if (values.list) {
    const text = readFileSync(values.list, 'utf8');
    files.push(...text.split('\n').map((l) => l.trim()).filter((l) => l !== ''));
  }
  files.push(...positionals);
  if (files.length === 0) throw new UsageError('no .npy inputs');
  return { pkg: path.resolve(values.package), backend: values.backend, files };
}

async function main() {
  let opts;
  try {
    opts = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`descriptors: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // Read every input first so a bad file fails before the slow model load.
  const inputs = opts.files.map((file) => {
    const { dtype, shape, values } = readNpy(file);
    if (dtype !== '<f4') throw new Error(`${file}: dtype ${dtype}, want <f4 (float32)`);
    if (shape.length !== 3 || shape[0] !== SIZE || shape[1] !== SIZE || shape[2] !== 3) {
      throw new Error(`${file}: shape (${shape}), want (${SIZE}, ${SIZE}, 3): face-api would resize it`);
    }
    return { file, values };
  });
  const { tf, faceapi } = await loadFaceApi(opts.pkg, opts.backend);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(path.join(opts.pkg, 'model'));
  process.stderr.write(`face-api ${faceapi.version} tfjs ${tf.version_core} backend ${tf.getBackend()}\n`);
  for (const { file, values } of inputs) {
    const tensor = tf.tensor3d(values, [SIZE, SIZE, 3], 'float32');
    const descriptor = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(tensor);
    tensor.dispose();
    // A float32 widened to a double prints in full, so JSON carries the exact values.
    process.stdout.write(`${JSON.stringify({ image: file, embedding: Array.from(descriptor) })}\n`);
  }
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`descriptors: ${err.message}\n`);
  process.exitCode = 1;
});
