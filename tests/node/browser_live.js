// The browser test: headless Chromium (Debian's chromium) opens the edge's /demo page, which
// connects to the WebSocket and subscribes to a title; then a new episode of that title is
// published to Kafka (kafkajs, as the pipeline's sync would), the page must show it, and a
// screenshot is taken. Then recovery: the page's socket is closed, 5 more episodes are published
// while it is away, and the page, back with `since`, must show each of them exactly once, in
// order. Prints one JSON line; exits non-zero on any failure.
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
    const recovered = await recovery(page, producer, topic, title, episode);
    await page.screenshot({ path: screenshot });
    console.log(JSON.stringify({ shown: text, ms_after_publish: shownAfter, recovered, screenshot }));
  } finally {
    await producer.disconnect().catch(() => {});
    await browser.close();
  }
}

// Closes the page's socket, publishes ordinals 6..10 while it stays away, lets it reconnect, and
// returns the list the page shows once it says it recovered (and a second later, nothing more).
async function recovery(page, producer, topic, title, episode) {
  await page.evaluate(() => { window.anipipeHold = true; window.anipipeSocket.close(); });
  await page.waitForSelector('body[data-subscribed="0"]', { timeout: 15000 });
  const messages = [];
  for (let ordinal = 6; ordinal <= 10; ++ordinal) {
    const e = { ...episode, event_id: `${title}:browser-ep-${ordinal}`, episode: { id: `browser-ep-${ordinal}`, ordinal, name: null } };
    messages.push({ key: String(title), value: JSON.stringify(e) });
  }
  await producer.send({ topic, messages });
  await new Promise((r) => setTimeout(r, 1000));  // the edge has them before the page is back
  await page.evaluate(() => { window.anipipeHold = false; });
  await page.waitForSelector('body[data-recovered]', { timeout: 15000 });
  await new Promise((r) => setTimeout(r, 1000));
  const shown = await page.$$eval("li.episode", (els) => els.map((el) => el.textContent));
  const expected = [6, 7, 8, 9, 10].map((o) => `Тайтл ${title} — серия ${o}`);
  if (JSON.stringify(shown.slice(1)) !== JSON.stringify(expected))
    throw new Error(`after the reconnect the page shows ${JSON.stringify(shown)}`);
  return shown.slice(1);
}

main().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
