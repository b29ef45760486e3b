/** Deterministic input values in [-1, 1) for the random-graph tests. */
export function randomInput(size: number, seed: number): Float32Array {
  const values = new Float32Array(size);
  let state = seed + 1;
  for (let i = 0; i < size; i++) {
    state = (state * 16807) % 2147483647;
    values[i] = (state / 2147483647) * 2 - 1;
  }
  return values;
}
