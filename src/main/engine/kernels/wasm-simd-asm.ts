// A minimal WebAssembly encoder for the app's SIMD routines (wasm-simd.ts): the opcodes they use,
// two loop shapes, and a module of routines that imports the tfjs wasm backend's Memory.
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function str(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}
function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}
export function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}
const simd = (code: number): number[] => [0xfd, ...uleb(code)];

export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  eqz: [0x45],
  geU: [0x4f],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  load: [...simd(0), 0x00, 0x00],
  store: [...simd(11), 0x00, 0x00],
  splatF32: simd(19),
  /** i8x16.shuffle of two vectors by 32-bit lanes (0–3 the first, 4–7 the second). */
  shuffle32: (lanes: [number, number, number, number]) => [...simd(13), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
  fne: simd(66),
  gt: simd(68),
  fle: simd(69),
  fge: simd(70),
  not: simd(77),
  and: simd(78),
  andnot: simd(79),
  or: simd(80),
  bitselect: simd(82),
  fadd: simd(228),
  fsub: simd(229),
  fmul: simd(230),
  fdiv: simd(231),
  fsqrt: simd(227),
  f32: (v: number) => {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    return [0x43, ...b];
  },
};

/** for (off = 0; off < limit; off += 16) body — `off` and `limit` are locals. */
export function forBytes(off: number, limit: number, body: number[]): number[] {
  return [
    ...op.i32(0),
    ...op.set(off),
    ...op.block,
    ...op.loop,
    ...op.get(off),
    ...op.get(limit),
    ...op.geU,
    ...op.brIf(1),
    ...body,
    ...op.get(off),
    ...op.i32(16),
    ...op.add,
    ...op.set(off),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** while (count != 0) { body; count-- } */
export function whileCount(count: number, body: number[]): number[] {
  return [
    ...op.block,
    ...op.loop,
    ...op.get(count),
    ...op.eqz,
    ...op.brIf(1),
    ...body,
    ...op.get(count),
    ...op.i32(1),
    ...op.sub,
    ...op.set(count),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** The sum of the locals (an address). */
export const addr = (...locals: number[]): number[] => locals.flatMap((l, i) => (i === 0 ? op.get(l) : [...op.get(l), ...op.add]));

/** v128 at the sum of the locals. */
export const ld = (...locals: number[]): number[] => [...addr(...locals), ...op.load];

/** Stores `value` (code that pushes a v128) at the sum of the locals. */
export const st = (at: number[], value: number[]): number[] => [...addr(...at), ...value, ...op.store];

/** local += by (i32). */
export const bump = (local: number, by: number[]): number[] => [...op.get(local), ...by, ...op.add, ...op.set(local)];

/**
 * rows × (cb / 16) vectors: for each row, body runs at byte offsets off = 0, 16, … < cb; after
 * each row, every local in `advance` moves on by cb bytes. `rows` counts down to 0.
 */
export function forRows(rows: number, cb: number, off: number, advance: number[], body: number[]): number[] {
  return whileCount(rows, [...forBytes(off, cb, body), ...advance.flatMap((p) => bump(p, op.get(cb)))]);
}

export interface Routine {
  name: string;
  params: number[];
  /** Locals past the params, by type: [count, type] runs. */
  locals: Array<[number, number]>;
  body: number[];
}

/** The module: every routine, exported by name, over the imported memory env.memory. */
export function moduleBytes(routines: readonly Routine[], shared: boolean): Uint8Array {
  const types = section(1, vec(routines.map((r) => [0x60, ...vec(r.params.map((t) => [t])), 0x00])));
  const memType = shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, ...memType]]));
  const funcs = section(3, vec(routines.map((_, i) => uleb(i))));
  const exports = section(7, vec(routines.map((r, i) => [...str(r.name), 0x00, ...uleb(i)])));
  const bodies = routines.map((r) => {
    const b = [...vec(r.locals.map(([n, t]) => [...uleb(n), t])), ...r.body, ...op.end];
    return [...uleb(b.length), ...b];
  });
  const code = section(10, vec(bodies));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code]);
}
