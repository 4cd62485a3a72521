import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * Builds the cairn web UI (web/) into static files under build/web/, which `cairn web` serves. No CDN and no web
 * fonts: every byte the page loads comes from this build. `npm run dev:web` serves it with a proxy to a running
 * `cairn web` (CAIRN_WEB_URL, default http://127.0.0.1:28740) for UI work.
 */
const upstream = process.env.CAIRN_WEB_URL ?? 'http://127.0.0.1:28735';
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../build/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': { target: upstream, ws: true },
      '/v1': upstream,
      '/exchange': upstream,
      '/web': upstream,
    },
  },
});
