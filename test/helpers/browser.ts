/** Debian's Chromium driven by playwright-core (no browser download): the flags the project runs it with. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env['POLYVISOR_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Launches Chromium; with `netns`, inside that network namespace (through a wrapper that execs it under
 * `ip netns exec`: Playwright talks to it over a pipe, so only its network is the namespace's).
 */
export function launchChromium(o: { netns?: string } = {}): Promise<Browser> {
  let exe = CHROMIUM;
  if (o.netns !== undefined) {
    if (!/^[a-z0-9-]+$/.test(o.netns)) throw new Error(`bad namespace name ${o.netns}`);
    const dir = mkdtempSync(path.join(tmpdir(), 'pv-chromium-'));
    exe = path.join(dir, 'chromium-in-netns');
    writeFileSync(exe, `#!/bin/sh\nexec ip netns exec ${o.netns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  }
  return chromium.launch({
    executablePath: exe,
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

/** axe-core's source, read once (devDependency `axe-core`). */
let axeSource: string | undefined;

export interface AxeProblem { id: string; impact: string; help: string; targets: string[] }

/**
 * Runs axe-core on the page as it is now and returns its serious and critical
 * violations (WCAG 2.x A/AA and best practices). The source goes in with
 * `evaluate` rather than addScriptTag: the daemon's CSP (script-src 'self')
 * refuses inline script tags, and turning the CSP off for the test would test
 * a different page.
 */
export async function axeProblems(page: Page): Promise<AxeProblem[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource);
  const found = await page.evaluate(`window.axe.run(document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => String(n.target)) })))`) as AxeProblem[];
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
