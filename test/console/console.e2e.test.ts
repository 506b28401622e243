import { expect } from "chai";
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { Status } from "../../registry-service/src/core";
import { launchBrowser, lyingSource, startConsoleRegistry, until, watchedPage, type ConsoleRegistry } from "../support/consoleRegistry";

/** The web console in headless Chromium, on the real service, a mirror and a Hardhat node. */
describe("web console (headless Chromium, real service and chain)", function () {
  this.timeout(300_000);
  let registry: ConsoleRegistry;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let alice: number;
  const shots = mkdtempSync(path.join(os.tmpdir(), "console-shots-"));

  before(async () => {
    [registry, browser] = await Promise.all([startConsoleRegistry(), launchBrowser()]);
    ({ page, errors } = await watchedPage(browser));
    alice = await registry.issue("alice", "alice phone");
  });
  after(async () => {
    await browser?.close();
    await registry?.close();
    rmSync(shots, { recursive: true, force: true });
  });

  /** Waits until `selector` shows exactly `text` (the pages update themselves). */
  const showsText = (selector: string, text: string) =>
    until(`${selector} to show ${text}`, async () => (await page.textContent(selector)) === text);

  const verdictAfterCheck = async (index: number) => {
    await page.fill("#field-index", String(index));
    await page.press("#field-index", "Enter");
    await page.waitForSelector("#verdict");
    return page.getAttribute("#verdict", "data-reason");
  };

  it("leads from / to the overview, which shows the latest anchored batch and follows new ones without a reload", async () => {
    await page.goto(registry.service.url);
    expect(new URL(page.url()).pathname).to.equal("/console/");
    const latest = (await registry.status(alice)).anchored.anchor.batch;
    await showsText("#latest-batch", `#${latest}`);
    expect(await page.textContent("#recent-batches tbody tr:first-child td:first-child")).to.equal(`#${latest}`);
    // the anchor's gas, from the chain's receipt
    await until("gas shown", async () => /^[0-9,]+$/.test((await page.textContent("#recent-batches tbody tr td:nth-child(4)")) ?? ""));

    const bob = await registry.issue("bob", "bob phone");
    const next = (await registry.status(bob)).anchored.anchor.batch;
    expect(next).to.be.greaterThan(latest);
    await showsText("#latest-batch", `#${next}`);
  });

  it("checks an active ID in the browser, by keyboard alone: VALID, with each step shown", async () => {
    await page.goto(`${registry.service.url}/console/#/check`);
    await page.waitForSelector("#field-index");
    await page.focus("body");
    const focused = () => page.evaluate<string | undefined>("document.activeElement?.id");
    for (let presses = 0; presses < 20 && (await focused()) !== "field-index"; presses++) await page.keyboard.press("Tab");
    expect(await focused()).to.equal("field-index");
    await page.keyboard.type(String(alice));
    await page.keyboard.press("Enter");
    await page.waitForSelector("#verdict");
    expect(await page.getAttribute("#verdict", "data-reason")).to.equal("VALID");
    const steps = await page.$$eval("#check-steps li", (items) => items.map((item) => item.className));
    expect(steps).to.deep.equal(["ok", "ok", "ok"]);
  });

  it("says SUSPENDED once the lost phone's lock is anchored", async () => {
    await registry.lock("alice phone");
    await registry.anchoredAs(alice, Status.Suspended);
    expect(await verdictAfterCheck(alice)).to.equal("SUSPENDED");
  });

  it("refuses a tampered proof from a fake source: PROOF_INVALID, in the page", async () => {
    const liar = await lyingSource(registry.service.url);
    try {
      await page.click("details summary");
      await page.fill("#field-source", liar.url);
      expect(await verdictAfterCheck(alice)).to.equal("PROOF_INVALID");
      expect(await page.$$eval("#check-steps li", (items) => items.map((item) => item.className))).to.deep.equal(["ok", "failed"]);
    } finally {
      await liar.close();
    }
  });

  it("refuses a malformed index with a clear message, before asking anyone", async () => {
    await page.goto(`${registry.service.url}/console/#/check`);
    await page.fill("#field-index", "12x");
    await page.press("#field-index", "Enter");
    expect(await page.textContent("#check-output [role=alert]")).to.contain("a whole number");
  });

  it("lists a batch's events and checks one event's receipt in the browser against the chain", async () => {
    const lockBatch = (await registry.status(alice)).anchored.record.batch;
    await page.goto(`${registry.service.url}/console/#/batches/${lockBatch}`);
    await page.waitForSelector("#batch-events tbody tr");
    expect(await page.textContent("#batch-events tbody tr td:nth-child(2)")).to.equal("LOCK_DEVICE");
    await page.click("#batch-events button[data-position='0']");
    await page.waitForSelector("#batch-events [role=status]");
    expect(await page.textContent("#batch-events [role=status]")).to.equal("✓ anchored");
  });

  it("on the mirror: the chain's word alone, and the audit's progress with no divergence", async () => {
    const latest = (await registry.status(alice)).anchored.anchor.batch;
    await page.goto(`${registry.mirror.url}/console/#/audit`);
    await until("the mirror's badge", async () => (await page.textContent("#server-kind"))?.startsWith("mirror"));
    await until("the replay caught up", async () => (await page.textContent("#audit-output"))?.includes(`${latest} of ${latest}`));
    expect(await page.textContent("#audit-output .alert")).to.contain("No divergence");
    await page.goto(`${registry.mirror.url}/console/#/overview`);
    await showsText("#latest-batch", `#${latest}`);
    expect(await verdictAfterCheckOn(`${registry.mirror.url}/console/#/check`)).to.equal("SUSPENDED");
  });

  const verdictAfterCheckOn = async (url: string) => {
    await page.goto(url);
    return verdictAfterCheck(alice);
  };

  for (const { name, width, height } of [
    { name: "phone", width: 375, height: 812 },
    { name: "desktop", width: 1280, height: 900 },
  ]) {
    it(`fits a ${width} px wide screen (${name}): no horizontal scrolling on any page`, async () => {
      const sized = await watchedPage(browser, { width, height });
      try {
        for (const route of ["overview", "check", `batches/1`, "audit"]) {
          await sized.page.goto(`${registry.service.url}/console/#/${route}`);
          await sized.page.waitForSelector("#page-title");
          await sized.page.waitForLoadState("networkidle");
          const overflow = await sized.page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
          expect(overflow, `${route} at ${width} px`).to.be.at.most(0);
        }
        const file = path.join(shots, `${name}.png`);
        await sized.page.screenshot({ path: file, fullPage: true });
        expect(statSync(file).size).to.be.greaterThan(1000);
        expect(sized.errors).to.deep.equal([]);
      } finally {
        await sized.page.close();
      }
    });
  }

  it("logged no console errors on the way", () => {
    expect(errors).to.deep.equal([]);
  });
});
