/**
 * `npm run screenshots`: the console's pages on a fresh registry (a Hardhat node, the service and a
 * mirror, a few IDs issued and one phone locked), photographed by headless Chromium into docs/console/.
 */
import path from "node:path";
import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { Status } from "../registry-service/src/core";
import { launchBrowser, startConsoleRegistry, watchedPage } from "../test/support/consoleRegistry";

const OUT = path.join(__dirname, "..", "docs", "console");

async function shoot(page: Page, url: string, ready: string, file: string) {
  await page.goto(url);
  await page.waitForSelector(ready);
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: path.join(OUT, file), fullPage: true });
  process.stdout.write(`docs/console/${file}\n`);
}

async function checkIndex(page: Page, url: string, index: number, file: string) {
  await page.goto(url);
  await page.fill("#field-index", String(index));
  await page.press("#field-index", "Enter");
  await page.waitForSelector("#verdict");
  await page.screenshot({ path: path.join(OUT, file), fullPage: true });
  process.stdout.write(`docs/console/${file}\n`);
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const [registry, browser] = await Promise.all([startConsoleRegistry(), launchBrowser()]);
  try {
    const alice = await registry.issue("alice", "alice phone");
    for (const holder of ["bob", "carol", "dave"]) await registry.issue(holder, `${holder} phone`);
    await registry.lock("alice phone");
    const locked = await registry.anchoredAs(alice, Status.Suspended);
    const service = `${registry.service.url}/console/`;
    const mirror = `${registry.mirror.url}/console/`;
    const desktop = (await watchedPage(browser, { width: 1280, height: 800 })).page;
    await shoot(desktop, `${service}#/overview`, "#recent-batches tbody tr td:nth-child(4)", "overview.png");
    await checkIndex(desktop, `${service}#/check`, alice + 1, "check-valid.png");
    await checkIndex(desktop, `${service}#/check`, alice, "check-suspended.png");
    await desktop.goto(`${service}#/batches/${locked.anchored.record.batch}`);
    await desktop.waitForSelector("#batch-events button");
    await desktop.click("#batch-events button[data-position='0']");
    await shoot(desktop, `${service}#/batches/${locked.anchored.record.batch}`, "#batch-events [role=status]", "batches.png");
    await shoot(desktop, `${mirror}#/audit`, "#audit-output .alert", "audit-mirror.png");
    const phone = (await watchedPage(browser, { width: 375, height: 812 })).page;
    await shoot(phone, `${service}#/overview`, "#recent-batches tbody tr td:nth-child(4)", "overview-phone.png");
    await checkIndex(phone, `${service}#/check`, alice, "check-phone.png");
  } finally {
    await browser.close();
    await registry.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
