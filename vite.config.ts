// Builds the Svelte renderer (src/renderer) into dist/renderer. base './' keeps every asset URL
// relative, so the same build loads under Electron's app:// protocol and under `autobatch serve`.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const rendererRoot = fileURLToPath(new URL('./src/renderer', import.meta.url));

export default defineConfig({
  root: rendererRoot,
  base: './',
  plugins: [svelte()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    // Electron 39 (Chromium 142) and current browsers; no legacy transforms needed.
    target: 'es2022',
    // A strict CSP forbids inline scripts: keep the module preload polyfill (an inline script) out.
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
});
