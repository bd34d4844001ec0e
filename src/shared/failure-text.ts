// Recognises an out-of-memory failure from an error's text, whichever layer reported it:
// V8 ("heap limit", "Array buffer allocation failed"), WebAssembly ("could not allocate
// memory", "memory access out of bounds" after a failed grow), WebGPU ("Out of memory"),
// TensorFlow ("OOM when allocating").
const OOM_PATTERN =
  /out of memory|\bOOM\b|heap limit|allocation failed|could not allocate|cannot allocate|failed to allocate|Invalid typed array length|Array buffer allocation|memory access out of bounds/i;

export function looksLikeOutOfMemory(text: string): boolean {
  return OOM_PATTERN.test(text);
}
