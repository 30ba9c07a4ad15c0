// runtime.mjs loads @vladmandic/face-api and its tfjs in Node on a backend that needs no native
// download: cpu (pure JavaScript) or wasm (the .wasm binaries shipped in @tensorflow/tfjs-backend-wasm).

import { createRequire } from 'node:module';
import path from 'node:path';

export const BACKENDS = ['cpu', 'wasm'];

// loadFaceApi returns {tf, faceapi} with tf's backend set and ready. pkg is the installed face-api
// package directory; tfjs is resolved from there so face-api and the caller share one tfjs instance
// (and its registered backends). No network access: the WASM binaries are read from disk.
export async function loadFaceApi(pkg, backend) {
  if (!BACKENDS.includes(backend)) throw new Error(`backend ${backend}: want one of ${BACKENDS.join(', ')}`);
  const require = createRequire(path.join(pkg, 'package.json'));
  const tf = require('@tensorflow/tfjs');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  const faceapi = require(path.join(pkg, 'dist', 'face-api.node-wasm.js'));
  if (backend === 'wasm') {
    const wasmFile = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
    wasm.setWasmPaths(`${path.dirname(wasmFile)}${path.sep}`);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialize`);
  await tf.ready();
  return { tf, faceapi };
}
