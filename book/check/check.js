// Serves the built book (`mdbook build book -d DIR`) on a local port, as
// `mdbook serve` would (the search index is fetched, which `file:` URLs
// forbid), loads every page in headless Chromium, and fails on:
// - an image that does not load (missing file, broken SVG);
// - a link to a page of the book that does not exist;
// - a link whose `#anchor` names no element of its target page;
// - any file the page itself fails to load (script, style, font).
// External links are not followed: the machine may be offline.
//
// Usage: node book/check/check.js DIR [CHROMIUM]
// CHROMIUM defaults to $CHROMIUM, then /usr/bin/chromium.

const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

const root = path.resolve(process.argv[2] || 'book/book');
const executablePath = process.argv[3] || process.env.CHROMIUM || '/usr/bin/chromium';

function htmlFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return htmlFiles(full);
    return entry.name.endsWith('.html') ? [full] : [];
  });
}

// The ids (and `name`s) a page defines, for checking anchors.
const idCache = new Map();
function idsOf(file) {
  if (!idCache.has(file)) {
    const html = fs.readFileSync(file, 'utf8');
    const ids = new Set();
    for (const m of html.matchAll(/\s(?:id|name)="([^"]+)"/g)) ids.add(m[1]);
    idCache.set(file, ids);
  }
  return idCache.get(file);
}

const types = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf',
};

// The file a URL path of the server names, if it is inside the book.
function fileOf(urlPath) {
  let rel = decodeURIComponent(urlPath);
  if (rel.endsWith('/')) rel += 'index.html';
  const file = path.join(root, rel);
  return file.startsWith(root) ? file : null;
}

function serve() {
  const server = http.createServer((req, res) => {
    const file = fileOf(new URL(req.url, 'http://localhost').pathname);
    if (!file || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

(async () => {
  const pages = htmlFiles(root);
  if (pages.length === 0) {
    console.error(`no pages under ${root}: build the book first`);
    process.exit(1);
  }
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  const problems = [];
  let links = 0;
  let images = 0;
  for (const file of pages) {
    const where = path.relative(root, file);
    const page = await browser.newPage();
    page.on('requestfailed', (req) => {
      if (req.url().startsWith(origin)) {
        problems.push(`${where}: failed to load ${req.url()}: ${req.failure().errorText}`);
      }
    });
    page.on('response', (res) => {
      if (res.url().startsWith(origin) && res.status() >= 400) {
        problems.push(`${where}: ${res.status()} for ${res.url().slice(origin.length)}`);
      }
    });
    page.on('pageerror', (err) => problems.push(`${where}: script error: ${err.message}`));
    const url = `${origin}/${where.split(path.sep).map(encodeURIComponent).join('/')}`;
    await page.goto(url, { waitUntil: 'networkidle' });
    const found = await page.evaluate(() => ({
      images: Array.from(document.images).map((img) => ({
        src: img.currentSrc || img.src,
        ok: img.complete && img.naturalWidth > 0,
      })),
      links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.href),
    }));
    for (const img of found.images) {
      images += 1;
      if (!img.ok) problems.push(`${where}: image does not load: ${img.src}`);
    }
    for (const href of found.links) {
      if (!href.startsWith(origin)) continue;
      links += 1;
      const url = new URL(href);
      const target = fileOf(url.pathname);
      if (!target || !fs.existsSync(target)) {
        problems.push(`${where}: broken link: ${path.relative(root, target)}`);
        continue;
      }
      const anchor = decodeURIComponent(url.hash.slice(1));
      // The 404 page has `<base href="/">` (it is served at any missing
      // path), so its headings' own anchors resolve against the index.
      const ownHeading = where === '404.html' && target === path.join(root, 'index.html');
      if (anchor && !ownHeading && target.endsWith('.html') && !idsOf(target).has(anchor)) {
        problems.push(`${where}: no anchor #${anchor} in ${path.relative(root, target)}`);
      }
    }
    await page.close();
  }
  await browser.close();
  server.close();
  console.log(`checked ${pages.length} pages: ${links} internal links, ${images} images`);
  if (problems.length > 0) {
    for (const p of [...new Set(problems)]) console.error(p);
    console.error(`${new Set(problems).size} problem(s)`);
    process.exit(1);
  }
  console.log('check.js: OK');
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
