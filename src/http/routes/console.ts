import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/**
 * The console's files: plain ES modules and CSS, served as they are from public/console (no build
 * step, no CDN). The folder is found from this module's place, which is the same depth under the
 * project in src/ (tsx) and dist/ (npm run build), so the build needs no copy.
 */
export const consoleDir = fileURLToPath(new URL('../../../public/console/', import.meta.url));

const noCache = { 'Cache-Control': 'no-cache' };

export function consoleRoutes(): Router {
  const router = Router();
  router.get('/', (_req, res, next) => {
    res.sendFile('index.html', { root: consoleDir, headers: noCache }, (error) => {
      if (error) next(error);
    });
  });
  // Revalidated on every load (ETag/Last-Modified), so a new version is seen at once.
  router.use('/console', express.static(consoleDir, { index: false, maxAge: 0, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  return router;
}
