/**
 * A small seeded PRNG (mulberry32): fast, and reproducible from a 32-bit seed. Everything random
 * that must replay — fault injection, randomized tests, generated benchmark data — draws from it,
 * so a printed seed reproduces the run exactly.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
