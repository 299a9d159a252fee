// The console and the public verification pages, built into console/dist and served by the api
// under /console/ (see src/http/console.ts).
import { defineConfig } from 'vite';

/** Ant Design is large; its chunk is cached for a year under its hash, so the warning's default is too low. */
const chunkSizeWarningKb = 2000;

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: chunkSizeWarningKb,
    sourcemap: false,
    rolldownOptions: {
      // Ant Design marks its modules "use client" for React Server Components; a browser bundle has no server side to keep it for.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
  server: {
    // `npm run console:dev` against an api on :3000 (cookies are same-site through the proxy).
    proxy: { '/v1': 'http://127.0.0.1:3000' },
  },
});
