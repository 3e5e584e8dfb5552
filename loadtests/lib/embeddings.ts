// Synthetic embeddings with the structure of real ones.
//
// Uniformly random unit vectors in 1536 dimensions are all nearly equidistant (cosine ~ 0 +- 0.03), so an
// approximate index has no neighbourhoods to find: HNSW recall@5 on them is ~0.04-0.11 and says nothing about
// production. Real text embeddings live near a low-dimensional manifold, are clustered by topic and share a
// common direction (ada-002 pairs rarely go below cosine 0.7). The model here reproduces those three traits:
//
//   z  = mu[topic] + spread * N(0, I_k)                 latent point: a topic centre plus Gaussian noise
//   x  = offset * m + A z + noise * N(0, I_d) / sqrt(d)  lifted to d dimensions by a fixed random map A (d x k)
//   e  = x / |x|                                         unit length, like OpenAI embeddings
//
// with k = latentDim (32), topic centres mu ~ N(0, I_k), A with N(0, 1/k) entries, m a fixed unit vector.
// `spread` is the within-topic standard deviation in latent units (0.45: a topic's points sit well inside
// its centre's neighbourhood, centres are ~sqrt(2k) apart), `noise` the isotropic full-dimensional noise
// (0.15 of the signal norm), `offset` the shared direction's weight. `describe()` measures the resulting
// cosine similarities (same topic, other topic, nearest neighbour) so reports can print them.
// Query vectors are drawn from the same distribution (a topic, then a fresh point), never copied from rows.
import { Rng } from './prng.js';

export interface EmbeddingSpaceOptions {
  dim: number;
  latentDim: number;
  topics: number;
  spread: number;
  noise: number;
  offset: number;
  seed: string;
}

export const DEFAULT_EMBEDDING_SPACE: EmbeddingSpaceOptions = {
  dim: 1536,
  latentDim: 32,
  topics: 200,
  spread: 0.45,
  noise: 0.15,
  offset: 1.2,
  seed: 'pgkit-embeddings-v1',
};

const NOISE_TABLE_SIZE = 1 << 20;

export class EmbeddingSpace {
  readonly opts: EmbeddingSpaceOptions;
  private readonly a: Float32Array; // d x k, row-major
  private readonly mu: Float32Array; // topics x k
  private readonly m: Float32Array; // d
  private readonly noiseTable: Float32Array;

  constructor(opts: Partial<EmbeddingSpaceOptions> = {}) {
    this.opts = { ...DEFAULT_EMBEDDING_SPACE, ...opts };
    const { dim, latentDim: k, topics, seed } = this.opts;
    if (!Number.isInteger(dim) || dim < 2 || dim > 16000) throw new Error(`embedding dim ${dim} is not valid: 2..16000`);
    if (!Number.isInteger(k) || k < 1 || k > dim) throw new Error(`latent dim ${k} is not valid: 1..${dim}`);
    const rng = new Rng(`${seed}/space/${dim}/${k}/${topics}`);
    this.a = new Float32Array(dim * k);
    const sa = 1 / Math.sqrt(dim); // norm-preserving on average: |A z| ~ |z|
    for (let i = 0; i < this.a.length; i++) this.a[i] = rng.normal() * sa;
    this.mu = new Float32Array(topics * k);
    for (let i = 0; i < this.mu.length; i++) this.mu[i] = rng.normal();
    this.m = new Float32Array(dim);
    let n = 0;
    for (let i = 0; i < dim; i++) {
      this.m[i] = rng.normal();
      n += this.m[i] * this.m[i];
    }
    n = Math.sqrt(n);
    for (let i = 0; i < dim; i++) this.m[i] /= n;
    // Full-dimensional noise is read from a table of normals at random offsets: same distribution for our
    // purpose, 20x cheaper than Box-Muller per coordinate.
    this.noiseTable = new Float32Array(NOISE_TABLE_SIZE);
    for (let i = 0; i < NOISE_TABLE_SIZE; i++) this.noiseTable[i] = rng.normal();
  }

  get dim(): number {
    return this.opts.dim;
  }

  get topics(): number {
    return this.opts.topics;
  }

  /** One unit vector from `topic` (0 .. topics-1), drawn with `rng`. */
  sample(rng: Rng, topic: number, out = new Float32Array(this.opts.dim)): Float32Array {
    const { dim, latentDim: k, spread, noise, offset } = this.opts;
    const t = ((topic % this.opts.topics) + this.opts.topics) % this.opts.topics;
    const z = new Float64Array(k);
    for (let j = 0; j < k; j++) z[j] = this.mu[t * k + j] + spread * rng.normal();
    // |A z| ~ |z| ~ sqrt(k * (1 + spread^2)); noise is scaled to a fraction of that.
    const zn = Math.sqrt(k * (1 + spread * spread));
    const ns = (noise * zn) / Math.sqrt(dim);
    const off = offset * zn;
    const start = Math.floor(rng.next() * (NOISE_TABLE_SIZE - dim));
    const stride = 1 + 2 * Math.floor(rng.next() * 3); // 1, 3 or 5: decorrelates neighbouring draws
    let norm = 0;
    for (let i = 0; i < dim; i++) {
      let s = 0;
      const row = i * k;
      for (let j = 0; j < k; j++) s += this.a[row + j] * z[j];
      const v = off * this.m[i] + s + ns * this.noiseTable[(start + i * stride) % NOISE_TABLE_SIZE];
      out[i] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < dim; i++) out[i] /= norm;
    return out;
  }

  /** Measured cosine similarities of this space (n samples), for reports. */
  describe(n = 400): { sameTopicCosine: number; otherTopicCosine: number; nearestNeighbourCosine: number } {
    const rng = new Rng(`${this.opts.seed}/describe`);
    const vs: Float32Array[] = [];
    const ts: number[] = [];
    const topicsUsed = Math.min(this.opts.topics, 20);
    for (let i = 0; i < n; i++) {
      const t = i % topicsUsed;
      ts.push(t);
      vs.push(this.sample(rng, t));
    }
    let same = 0, sameN = 0, other = 0, otherN = 0, nn = 0;
    for (let i = 0; i < n; i++) {
      let best = -2;
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const c = cosine(vs[i], vs[j]);
        if (ts[i] === ts[j]) { same += c; sameN++; } else { other += c; otherN++; }
        if (c > best) best = c;
      }
      nn += best;
    }
    return { sameTopicCosine: same / sameN, otherTopicCosine: other / otherN, nearestNeighbourCosine: nn / n };
  }
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

/** pgvector's text form, '[0.1,0.2,...]' (7 significant digits: float4 precision). */
export function vectorLiteral(v: ArrayLike<number>): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) {
    if (i) s += ',';
    s += Math.fround(v[i]).toPrecision(7);
  }
  return s + ']';
}

/** pgvector's binary wire form (COPY BINARY / binary parameters): int16 dim, int16 unused, float4 x dim, big-endian. */
export function vectorBinary(v: Float32Array): Buffer {
  const b = Buffer.allocUnsafe(4 + 4 * v.length);
  b.writeInt16BE(v.length, 0);
  b.writeInt16BE(0, 2);
  // Copy the floats in host order, then swap to network order in one pass (much faster than writeFloatBE).
  Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(b, 4);
  b.subarray(4).swap32();
  return b;
}

/** Recall@k of `got` against `exact` (both lists of ids), averaged by the caller. */
export function recallAt(k: number, got: readonly string[], exact: readonly string[]): number {
  const truth = new Set(exact.slice(0, k));
  if (truth.size === 0) return 1;
  let hit = 0;
  for (const id of got.slice(0, k)) if (truth.has(id)) hit++;
  return hit / truth.size;
}
