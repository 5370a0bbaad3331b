// The browser test: headless Chromium (Debian's chromium) opens the edge's /demo page, which
// connects to the WebSocket and subscribes to a title; then a new episode of that title is
// published to Kafka (kafkajs, as the pipeline's sync would), the page must show it, and a
// screenshot is taken. Prints one JSON line; exits non-zero on any failure.
//   node browser_live.js EDGE_URL BROKERS NEW_EPISODE_TOPIC TITLE_ID SCREENSHOT_PATH
const puppeteer = require("puppeteer-core");
const { Kafka, logLevel } = require("kafkajs");

async function main() {
  const [edge, brokers, topic, titleArg, screenshot] = process.argv.slice(2);
  const title = Number(titleArg);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,600"],
  });
  const kafka = new Kafka({ clientId: "browser-test", brokers: brokers.split(","), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  try {
    const page = await browser.newPage();
    // The page's own console and errors, for the test's failure output.
    page.on("console", (m) => console.error("page:", m.text()));
    page.on("pageerror", (e) => console.error("page error:", String(e)));
    await page.setViewport({ width: 900, height: 600 });
    await page.goto(`${edge}/demo?title=${title}`, { waitUntil: "load" });
    await page.waitForSelector('body[data-subscribed="1"]', { timeout: 15000 });
    await producer.connect();
    const episode = {
      event_id: `${title}:browser-ep`, title_id: title,
      episode: { id: "browser-ep", ordinal: 5, name: "Серия из браузерного теста" },
      title: { alias: `title-${title}`, names: { ru: `Тайтл ${title}` } },
      detected_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
    const sent = Date.now();
    await producer.send({ topic, messages: [{ key: String(title), value: JSON.stringify(episode) }] });
    const li = await page.waitForSelector("li.episode", { timeout: 15000 });
    const shownAfter = Date.now() - sent;
    const text = await li.evaluate((el) => el.textContent);
    await page.screenshot({ path: screenshot });
    console.log(JSON.stringify({ shown: text, ms_after_publish: shownAfter, screenshot }));
  } finally {
    await producer.disconnect().catch(() => {});
    await browser.close();
  }
}

main().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
