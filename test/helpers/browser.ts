/** Debian's Chromium driven by playwright-core (no browser download): the flags the project runs it with. */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env['POLYVISOR_CHROMIUM'] ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records uncaught errors and console errors (other than the 4xx the API answers on purpose). */
export type WatchedPage = Page & { problems: string[] };

/** Opens the web UI at `url` in a new context and logs in with `token`; resolves once the VM list shows. */
export async function logInWebUi(browser: Browser, url: string, token: string, width = 1280): Promise<WatchedPage> {
  const ctx = await browser.newContext({ viewport: { width, height: 860 } });
  const page = await ctx.newPage() as WatchedPage;
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[0-9]/.test(m.text())) page.problems.push(m.text()); });
  await page.goto(url);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Virtual machines');
  return page;
}
