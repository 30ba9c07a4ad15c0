// npy.mjs reads the small subset of NumPy's .npy format the face-api scripts exchange with Python:
// C-ordered little-endian float32 ('<f4') or uint8 ('|u1') arrays.

import { readFileSync } from 'node:fs';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"

// readNpy returns {dtype, shape, values}: values is a Float32Array for '<f4' and a Uint8Array for
// '|u1'. Anything else (other dtypes, Fortran order, a truncated file) throws with the file name.
export function readNpy(file) {
  const buf = readFileSync(file);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new Error(`${file}: not a .npy file`);
  }
  const major = buf[6];
  let headerLen;
  let headerStart;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new Error(`${file}: unsupported .npy version ${major}`);
  }
  const header = buf.subarray(headerStart, headerStart + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${file}: bad .npy header ${header.trim()}`);
  const dtype = descr[1];
  const itemSize = { '<f4': 4, '|u1': 1 }[dtype];
  if (!itemSize) throw new Error(`${file}: dtype ${dtype}, want <f4 (float32) or |u1 (uint8)`);
  if (fortran[1] === 'True') throw new Error(`${file}: Fortran order is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  if (buf.length !== dataStart + itemSize * count) {
    throw new Error(`${file}: ${buf.length - dataStart} data bytes, want ${itemSize * count} for shape (${dims})`);
  }
  if (dtype === '|u1') {
    return { dtype, shape: dims, values: Uint8Array.from(buf.subarray(dataStart)) };
  }
  // A DataView reads little-endian whatever the host is, and needs no alignment.
  const view = new DataView(buf.buffer, buf.byteOffset + dataStart, 4 * count);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i += 1) values[i] = view.getFloat32(4 * i, true);
  return { dtype, shape: dims, values };
}
