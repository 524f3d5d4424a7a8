#!/usr/bin/env node
// Makes heap-snapshot-summary.png and heap-snapshot-comparison.png: Chrome
// DevTools' Memory panel with the two snapshots of
// `cargo run --example heap_snapshot` loaded (Summary with a
// MyBigFatObject's retainers, then Comparison with the first snapshot).
//
// Needs Chromium (Debian: apt-get install chromium) and playwright-core
// (npm install playwright-core, anywhere on NODE_PATH):
//
//   cargo run --example heap_snapshot -- /tmp
//   node book/src/images/devtools_screenshot.js \
//     /tmp/gc-core-before.heapsnapshot /tmp/gc-core-after.heapsnapshot book/src/images
'use strict';

const path = require('path');
const {chromium} = require('playwright-core');

async function main() {
  const [before, after, outDir] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage({viewport: {width: 1400, height: 800}});
  // DevTools' own front end, with no target: loading files needs none.
  await page.goto('devtools://devtools/bundled/devtools_app.html?panel=heap-profiler');
  await page.waitForTimeout(3000);
  for (const file of [before, after]) {
    const chooser = page.waitForEvent('filechooser');
    await page.getByText('Load profile').first().click();
    await (await chooser).setFiles(file);
    await page.waitForTimeout(3000);
  }
  await page.getByText('gc-core-after').first().click();
  await page.waitForTimeout(2000);

  // Select the first MyBigFatObject: the Retainers pane shows its path.
  async function showRetainers() {
    await page.getByText('MyBigFatObject').first().click();
    await page.keyboard.press('ArrowRight');
    await page.waitForTimeout(500);
    await page.keyboard.press('ArrowDown');
    await page.waitForTimeout(1500);
  }
  await showRetainers();
  await page.screenshot({path: path.join(outDir, 'heap-snapshot-summary.png')});

  const selects = page.locator('select');
  for (let i = 0; i < (await selects.count()); i++) {
    const options = await selects.nth(i).locator('option').allTextContents();
    if (options.includes('Comparison')) {
      await selects.nth(i).selectOption({label: 'Comparison'});
      break;
    }
  }
  await page.waitForTimeout(2500);
  await showRetainers();
  await page.screenshot({path: path.join(outDir, 'heap-snapshot-comparison.png')});
  await browser.close();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
