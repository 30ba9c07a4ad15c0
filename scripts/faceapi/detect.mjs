#!/usr/bin/env node
// detect.mjs finds faces with @vladmandic/face-api (SSD MobileNet v1 + 68-point landmarks) and prints
// the square box face-api itself would cut for the recognition net: landmarks.align(null,
// {useDlibAlignment: true}), as in its ComputeFaceDescriptorsTasks. scripts/faceapi/make_crops.py
// uses it to cut the test crops from the package's sample photos.
//
// Inputs: .npy images of shape (H, W, 3), RGB, uint8 or float32 0..255. Output: one JSON line per
// input on stdout, {"image": path, "width": W, "height": H, "faces": [{"score", "box": [x, y, w, h],
// "aligned": [x, y, w, h]}]}, faces by descending score.

import path from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';

import { readNpy } from './npy.mjs';
import { BACKENDS, loadFaceApi } from './runtime.mjs';

const USAGE = `usage: node detect.mjs --package DIR [--backend cpu|wasm] [--min-confidence P] FILE.npy ...

  --package DIR         the installed face-api package (model/ holds the detector and landmark weights)
  --backend NAME        tfjs backend: cpu (pure JavaScript, default) or wasm
  --min-confidence P    SSD score threshold in (0, 1), default 0.5 (face-api's default)
  -h, --help            this text`;

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
        'min-confidence': { type: 'string', default: '0.5' },
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
  const minConfidence = Number(values['min-confidence']);
  if (!(minConfidence > 0 && minConfidence < 1)) {
    throw new UsageError(`--min-confidence ${values['min-confidence']}: want a number in (0, 1)`);
  }
  if (positionals.length === 0) throw new UsageError('no .npy inputs');
  return { pkg: path.resolve(values.package), backend: values.backend, minConfidence, files: positionals };
}

const rect = (b) => [b.x, b.y, b.width, b.height];

async function main() {
  let opts;
  try {
    opts = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`detect: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { tf, faceapi } = await loadFaceApi(opts.pkg, opts.backend);
  const modelDir = path.join(opts.pkg, 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: opts.minConfidence });
  for (const file of opts.files) {
    const { shape, values } = readNpy(file);
    if (shape.length !== 3 || shape[2] !== 3) throw new Error(`${file}: shape (${shape}), want (H, W, 3)`);
    const tensor = tf.tensor3d(values instanceof Uint8Array ? Int32Array.from(values) : values, shape,
      values instanceof Uint8Array ? 'int32' : 'float32');
    const results = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks();
    tensor.dispose();
    const faces = results
      .map((r) => ({
        score: r.detection.score,
        box: rect(r.detection.box),
        aligned: rect(r.landmarks.align(null, { useDlibAlignment: true })),
      }))
      .sort((a, b) => b.score - a.score);
    process.stdout.write(`${JSON.stringify({ image: file, width: shape[1], height: shape[0], faces })}\n`);
  }
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`detect: ${err.message}\n`);
  process.exitCode = 1;
});
