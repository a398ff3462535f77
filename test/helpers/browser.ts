// Debian's headless Chromium driven by playwright-core, for the web UI's tests: one browser per
// test file (pages are cheap, browsers are not), every console error and page error collected,
// screenshots written to test-output/web/<file>/. Which browser and its flags: bench/lib/chromium.ts.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
export type { Page } from 'playwright-core';
import { projectPath } from '../../shared/paths.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../../bench/lib/chromium.js';

export { CHROMIUM };

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (own sessionStorage) and page; console errors land in `errors`. */
  open(opts?: {
    width?: number;
    height?: number;
    colorScheme?: 'light' | 'dark';
  }): Promise<{ context: BrowserContext; page: Page; errors: string[] }>;
  /** Saves a PNG of the page under test-output/web/<name>/; returns its path. */
  shot(page: Page, name: string): Promise<string>;
  outDir: string;
}

export async function launchBrowser(
  t: { teardown(fn: () => void | Promise<void>): void },
  name: string,
): Promise<TestBrowser> {
  // playwright gives the browser a new empty profile folder of its own (--user-data-dir)
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const outDir = projectPath('test-output', 'web', name);
  mkdirSync(outDir, { recursive: true });
  return {
    browser,
    outDir,
    async open(opts = {}) {
      const context = await browser.newContext({
        viewport: { width: opts.width ?? 1280, height: opts.height ?? 860 },
        colorScheme: opts.colorScheme ?? 'light',
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
      page.setDefaultTimeout(30_000);
      return { context, page, errors };
    },
    async shot(page, file) {
      const path = join(outDir, `${file}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
  };
}

/** Logs in through the login page and waits for the shell. */
export async function login(page: Page, base: string, token: string): Promise<void> {
  await page.goto(base + '/');
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('who').waitFor();
}

/** Moves to `path` inside the app (no reload, as a link does), waiting until `ready` shows. */
export async function visit(page: Page, path: string, ready: string): Promise<void> {
  await page.evaluate((p) => {
    history.pushState(null, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
  await page.locator(ready).first().waitFor();
}
