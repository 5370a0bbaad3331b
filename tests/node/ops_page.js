// The ops page in a browser: headless Chromium (Debian's chromium) opens `anipipe-ops serve`'s page
// with a group chosen, reads the group's lag as the page shows it, finds a dead letter, re-drives
// it (dry run first, then for real, as a person would: two clicks) and takes a full-page
// screenshot. Prints one JSON line; exits non-zero on any failure.
//   node ops_page.js PAGE_URL DLQ_ID SCREENSHOT_PATH
// PAGE_URL carries the query (?group=…&filter=…&tail=…); DLQ_ID is "partition:offset".
const puppeteer = require("puppeteer-core");

async function main() {
  const [url, dlqId, screenshot] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"],
  });
  try {
    const page = await browser.newPage();
    page.on("console", (m) => console.error("page:", m.text()));
    page.on("pageerror", (e) => console.error("page error:", String(e)));
    await page.setViewport({ width: 1400, height: 900 });
    await page.goto(url, { waitUntil: "load" });
    await page.waitForSelector('body[data-loaded="1"]', { timeout: 30000 });
    const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());
    await page.waitForSelector("#lag-total", { timeout: 15000 });
    const lagTotal = await text("#lag-total");
    const lagSeconds = await text("#lag-seconds");
    const lagRows = await page.$$eval("#lag tbody tr", (rows) => rows.length);
    const status = await text("#status");

    const row = `tr[data-dlq-id="${dlqId}"]`;
    await page.waitForSelector(row, { timeout: 15000 });
    const dlqRows = await page.$$eval("#dlq-body tr", (rows) => rows.length);
    const dlqText = await text(row);
    await page.click(`${row} button.redrive`);
    await page.waitForSelector("#redrive-confirm", { timeout: 15000 });
    const dryRun = await page.$$eval("#redrive-panel li.outcome", (lis) => lis.map((li) => li.dataset.outcome));
    await page.click("#redrive-confirm");
    await page.waitForSelector("#redrive-done", { timeout: 30000 });
    const done = await text("#redrive-done");
    const outcomes = await page.$$eval("#redrive-panel li.outcome", (lis) => lis.map((li) => li.textContent));
    // The row now says it was re-driven instead of offering the button again.
    await page.waitForFunction((sel) => { const r = document.querySelector(sel); return r && !r.querySelector("button.redrive"); },
      { timeout: 15000 }, row);
    const topicRows = await page.$$eval("#topics-body tr", (rows) => rows.length);
    await page.waitForFunction(() => document.querySelectorAll("#tail-body tr").length >= 3, { timeout: 15000 });
    const tailRows = await page.$$eval("#tail-body tr", (rows) => rows.length);
    const groupRows = await page.$$eval("#groups-body tr", (rows) => rows.length);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(JSON.stringify({ lag_total: lagTotal, lag_seconds: lagSeconds, lag_rows: lagRows, status, dlq_rows: dlqRows,
      dlq_row: dlqText, dry_run: dryRun, done, outcomes, topic_rows: topicRows, group_rows: groupRows, tail_rows: tailRows, screenshot }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
