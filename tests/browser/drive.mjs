// Drives headless Chromium through the customer space and the Hortense widget (playwright-core).
//
// Usage: node tests/browser/drive.mjs <scenario.json>
// The scenario (written by tests/browser/test_customer_space.py) names the URLs, the customer, what to ask
// and what to expect; this script performs the steps, saves screenshots and the downloaded PDF, and writes
// what it observed to `scenario.resultPath`. It exits 1 at the first failed step, after a screenshot.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const scenario = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const result = { steps: [], console: [], pageErrors: [], failedRequests: [], screenshots: [] };
const timeout = scenario.timeoutMs ?? 60000;
fs.mkdirSync(scenario.artifactsDir, { recursive: true });

function save() {
  fs.writeFileSync(scenario.resultPath, JSON.stringify(result, null, 2));
}

async function shot(page, name) {
  const file = path.join(scenario.artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false }).catch(() => {});
  result.screenshots.push(file);
}

async function step(name, page, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    result.steps.push({ name, ok: true, ms: Date.now() - started, detail: detail ?? null });
    save();
    return detail;
  } catch (error) {
    result.steps.push({ name, ok: false, ms: Date.now() - started, error: String(error && error.stack || error) });
    result.failed = name;
    if (page) {
      await shot(page, `failure-${name}`);
      result.failureText = await botTexts(page).catch(() => []);
    }
    save();
    throw error;
  }
}

const botSelector = '.rw-conversation-container .rw-message .rw-response';

async function botTexts(page) {
  return page.$$eval(botSelector, (nodes) => nodes.map((n) => n.innerText.trim()));
}

async function openWidget(page) {
  await page.waitForSelector('.rw-launcher', { timeout });
  if (!(await page.$('.rw-conversation-container'))) {
    await page.click('.rw-launcher');
  }
  await page.waitForSelector('.rw-conversation-container', { timeout });
}

// Wait until a bot message (after the first `after` ones) contains the expected text (spaces normalised).
async function waitForBotText(page, expected, after = 0) {
  await page.waitForFunction(
    ({ selector, expected, after }) => {
      const norm = (s) => s.replace(/[\u00a0\u202f\s]+/g, ' ').trim();
      const nodes = Array.from(document.querySelectorAll(selector)).slice(after);
      return nodes.some((n) => norm(n.innerText).includes(norm(expected)));
    },
    { selector: botSelector, expected, after },
    { timeout },
  );
}

async function ask(page, text) {
  const before = (await page.$$(botSelector)).length;
  await page.waitForSelector('.rw-new-message:not([disabled])', { timeout });
  await page.fill('.rw-new-message', text);
  await page.press('.rw-new-message', 'Enter');
  await page.waitForFunction(
    ({ selector, text }) => Array.from(document.querySelectorAll(selector)).some((n) => n.innerText.trim() === text),
    { selector: '.rw-conversation-container .rw-message .rw-client', text },
    { timeout },
  );
  return before;
}

async function imageLoaded(page, selector) {
  await page.waitForFunction(
    (sel) => Array.from(document.querySelectorAll(sel)).some((img) => img.complete && img.naturalWidth > 0),
    selector,
    { timeout },
  );
  return page.$$eval(selector, (imgs) => imgs.map((img) => ({ src: img.src, naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight })).filter((i) => i.naturalWidth > 0));
}

// Click a link that opens in a new tab (rasa-webchat uses target=_blank) and save what it downloads.
async function download(context, page, selector, target) {
  const link = page.locator(selector).last();
  const href = await link.getAttribute('href');
  const fromPopup = new Promise((resolve) => {
    context.once('page', (popup) => popup.waitForEvent('download', { timeout }).then(resolve, () => {}));
  });
  const fromPage = page.waitForEvent('download', { timeout }).catch(() => null);
  await link.click();
  const dl = await Promise.race([fromPopup, fromPage.then((d) => d || fromPopup)]);
  await dl.saveAs(target);
  return { href, suggestedFilename: dl.suggestedFilename(), bytes: fs.statSync(target).size };
}

async function login(page) {
  await page.goto(scenario.baseUrl + '/', { waitUntil: 'load' });
  await shot(page, `${scenario.shotPrefix ?? ''}01-demo-picker`);
  await Promise.all([
    page.waitForURL(scenario.baseUrl + '/', { waitUntil: 'load' }),
    page.click(`button.customer[data-customer="${scenario.customer}"]`),
  ]);
  await page.waitForSelector('h1.hello', { timeout });
  return { heading: (await page.textContent('h1.hello')).trim() };
}

async function until(condition, what) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// The customer journey: log in, chat (PDL, chart, proof of address), reload, keep chatting.
async function journey(context, page) {
  await step('login', page, () => login(page));

  await step('space_chart', page, async () => imageLoaded(page, 'main img.chart'));
  await shot(page, '02-customer-space');

  await step('greeting', page, async () => {
    await openWidget(page);
    await waitForBotText(page, scenario.expect.greeting);
    return { texts: await botTexts(page) };
  });
  await shot(page, '03-widget-greeting');

  await step('pdl', page, async () => {
    const before = await ask(page, scenario.ask.pdl);
    await waitForBotText(page, scenario.expect.pdl, before);
    return { texts: (await botTexts(page)).slice(before) };
  });
  await shot(page, '04-widget-pdl');

  await step('consumption_chart', page, async () => {
    const before = await ask(page, scenario.ask.consumption);
    await waitForBotText(page, scenario.expect.consumption, before);
    const images = await imageLoaded(page, '.rw-conversation-container img.rw-image-frame');
    return { images, texts: (await botTexts(page)).slice(before) };
  });
  await page.waitForTimeout(500);
  await shot(page, '05-widget-consumption-chart');

  await step('proof_of_address', page, async () => {
    const before = await ask(page, scenario.ask.proof);
    const selector = '.rw-conversation-container a[href*="/documents/attestation/"]';
    await page.waitForSelector(selector, { timeout });
    const saved = await download(context, page, selector, scenario.pdfPath);
    return { ...saved, texts: (await botTexts(page)).slice(before) };
  });
  await shot(page, '06-widget-proof-of-address');

  await step('reload_keeps_conversation', page, async () => {
    const countBefore = (await page.$$(botSelector)).length;
    await page.reload({ waitUntil: 'load' });
    await openWidget(page);
    await waitForBotText(page, scenario.expect.pdl);
    await page.waitForFunction(
      ({ selector, count }) => document.querySelectorAll(selector).length >= count,
      { selector: botSelector, count: countBefore },
      { timeout },
    );
    return { messagesBefore: countBefore, messagesAfter: (await page.$$(botSelector)).length,
      storedConversation: await page.evaluate(() => (JSON.parse(sessionStorage.getItem('chat_session') || '{}')).session_id) };
  });
  await shot(page, '07-after-reload');

  await step('still_connected_after_reload', page, async () => {
    const before = await ask(page, scenario.ask.contract);
    await waitForBotText(page, scenario.expect.contract, before);
    return { texts: (await botTexts(page)).slice(before) };
  });
  await shot(page, '08-after-reload-answer');
}

// Short-lived portal tokens: the page fetches a new one before expiry and the socket reconnects with it.
async function renewal(context, page) {
  const tokens = new Set();
  let fetches = 0;
  const note = (url) => {
    const match = /\/socket\.io\/.*[?&]token=([^&]+)/.exec(url);
    if (match) tokens.add(decodeURIComponent(match[1]));
  };
  page.on('request', (request) => {
    note(request.url());
    if (new URL(request.url()).pathname === '/token') fetches += 1;
  });
  page.on('websocket', (ws) => note(ws.url()));
  await step('login', page, () => login(page));
  await step('greeting', page, async () => {
    await openWidget(page);
    await waitForBotText(page, scenario.expect.greeting);
    return { texts: await botTexts(page) };
  });
  await step('token_renewed_and_socket_reconnected', page, async () => {
    await until(() => fetches >= 1 && tokens.size >= 2, 'a new token and a socket connection using it');
    return { tokenFetches: fetches, socketTokens: tokens.size };
  });
  await step('answers_after_renewal', page, async () => {
    const before = await ask(page, scenario.ask.pdl);
    await waitForBotText(page, scenario.expect.pdl, before);
    return { texts: (await botTexts(page)).slice(before), socketTokens: tokens.size };
  });
  await shot(page, `${scenario.shotPrefix ?? ''}renewal-answer`);
}

let browser;
let page;
try {
  browser = await chromium.launch({
    executablePath: scenario.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({
    acceptDownloads: true, locale: 'fr-FR', viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(timeout);
  page = await context.newPage();
  // rasa-webchat imports a Google Fonts stylesheet that the page's CSP blocks on purpose (no third-party
  // request from the customer space): those messages are expected and left out of the report.
  const expectedNoise = /fonts\.googleapis\.com/;
  page.on('console', (m) => {
    if (['error', 'warning'].includes(m.type()) && !expectedNoise.test(m.text())) result.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => result.pageErrors.push(String(e)));
  page.on('requestfailed', (r) => {
    if (!expectedNoise.test(r.url())) result.failedRequests.push(`${r.url()} ${r.failure() && r.failure().errorText}`);
  });

  await (scenario.mode === 'renewal' ? renewal : journey)(context, page);
  result.ok = true;
  save();
} catch (error) {
  result.ok = false;
  result.error = String(error && error.stack || error);
  save();
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
}
