// Drives headless Chromium through the advisors' console (playwright-core): a customer says something Hortense
// does not understand in the widget; an advisor sees their next calls across days, searches a customer, records
// a note after a call, on a desktop and a phone-sized screen; a supervisor sees everybody's calls, labels the
// misunderstood message in the review inbox and reads the analytics.
//
// Usage: node tests/browser/console.mjs <scenario.json> (written by tests/browser/test_console.py, which judges
// what this script reports in `scenario.resultPath`). Screenshots go to `scenario.artifactsDir`.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const scenario = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const result = { steps: [], console: [], pageErrors: [], failedRequests: [] };
const timeout = scenario.timeoutMs ?? 60000;
const base = scenario.baseUrl;
fs.mkdirSync(scenario.artifactsDir, { recursive: true });

const save = () => fs.writeFileSync(scenario.resultPath, JSON.stringify(result, null, 2));
const shot = (page, name) => page.screenshot({ path: path.join(scenario.artifactsDir, `console-${name}.png`),
  fullPage: true }).catch(() => {});

async function step(name, page, fn) {
  try {
    const detail = await fn();
    result.steps.push({ name, ok: true, detail: detail ?? null });
    save();
    return detail;
  } catch (error) {
    result.steps.push({ name, ok: false, error: String(error && error.stack || error) });
    result.failed = name;
    await shot(page, `failure-${name}`);
    save();
    throw error;
  }
}

const text = (page, selector) => page.$$eval(selector, (nodes) => nodes.map((n) => n.innerText.replace(/\s+/g, ' ').trim()));

async function phoneWidth(page) {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth, body: document.body.scrollWidth }));
  await page.setViewportSize({ width: 1280, height: 900 });
  return widths;
}

async function consoleLogin(page, email) {
  await page.goto(`${base}/console/login`, { waitUntil: 'load' });
  await page.fill('#email', email);
  await page.fill('#password', scenario.password);
  await Promise.all([page.waitForURL(`${base}/console/calls`), page.click('form[action="/console/login"] button')]);
}

async function logout(page) {
  await Promise.all([page.waitForURL(`${base}/console/login`), page.click('form[action="/console/logout"] button')]);
}

async function customerSaysSomethingStrange(page) {
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await Promise.all([page.waitForURL(`${base}/`, { waitUntil: 'load' }),
    page.click(`button.customer[data-customer="${scenario.customer}"]`)]);
  await page.waitForSelector('.rw-launcher', { timeout });
  if (!(await page.$('.rw-conversation-container'))) await page.click('.rw-launcher');
  const bot = '.rw-conversation-container .rw-message .rw-response';
  await page.waitForSelector(bot, { timeout });
  const before = (await page.$$(bot)).length;
  await page.waitForSelector('.rw-new-message:not([disabled])', { timeout });
  await page.fill('.rw-new-message', scenario.strange);
  await page.press('.rw-new-message', 'Enter');
  await page.waitForFunction(({ selector, count }) => document.querySelectorAll(selector).length > count,
    { selector: bot, count: before }, { timeout });
  await page.waitForTimeout(1500);
  return { answers: (await text(page, bot)).slice(before) };
}

async function advisor(page) {
  await step('advisor_login', page, () => consoleLogin(page, scenario.advisor));
  await step('advisor_upcoming', page, async () => {
    await shot(page, 'advisor-upcoming');
    return { days: await text(page, 'h2.day'), calls: await text(page, 'article.call h3'),
      toClose: await text(page, 'section[aria-labelledby="to-close"] article.call h3'), phone: await phoneWidth(page) };
  });
  await step('advisor_week', page, async () => {
    await page.click('nav a[href="/console/calls/week"]');
    await page.waitForSelector('section.weekday');
    return { days: await text(page, 'section.weekday h2'), calls: await text(page, 'article.call h3') };
  });
  await step('advisor_search', page, async () => {
    await page.fill('#top-search', scenario.search);
    await Promise.all([page.waitForURL(/\/console\/search\?q=/), page.click('form.search button')]);
    await shot(page, 'advisor-search');
    return { status: (await text(page, 'p[role="status"]'))[0], calls: await text(page, 'article.call h3'),
      phone: await phoneWidth(page) };
  });
  await step('advisor_note', page, async () => {
    await page.goto(`${base}/console/calls/${scenario.pastCall}`, { waitUntil: 'load' });
    await page.fill('#note', scenario.note);
    await Promise.all([page.waitForURL(`${base}/console/calls/${scenario.pastCall}`),
      page.click('form.outcome button[value="done"]')]);
    await page.waitForSelector('ol.notes li');
    await shot(page, 'advisor-note');
    return { notes: await text(page, 'ol.notes li'), phone: await phoneWidth(page) };
  });
  await logout(page);
}

async function supervisor(page) {
  await step('supervisor_login', page, () => consoleLogin(page, scenario.supervisor));
  await step('supervisor_upcoming', page, async () => ({ title: (await text(page, 'h1'))[0],
    calls: await text(page, 'article.call'), advisors: await text(page, 'article.call a[href^="/console/calls?advisor="]') }));
  await step('supervisor_review', page, async () => {
    await page.click('nav a[href="/console/review"]');
    const item = page.locator('article.review', { hasText: scenario.strange }).first();
    await item.waitFor({ timeout });
    const listed = await item.innerText();
    await shot(page, 'supervisor-review');
    await item.locator('select[name="intent"]').selectOption(scenario.label);
    await Promise.all([page.waitForURL(/\/console\/review/), item.locator('button[value="intent"]').click()]);
    await page.goto(`${base}/console/review?show=done`, { waitUntil: 'load' });
    const done = page.locator('article.review', { hasText: scenario.strange }).first();
    await done.waitFor({ timeout });
    return { listed, labelled: (await done.locator('.label').innerText()).trim(), phone: await phoneWidth(page) };
  });
  await step('supervisor_analytics', page, async () => {
    await page.goto(`${base}/console/analytics?${scenario.analyticsQuery}`, { waitUntil: 'load' });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.charts img'))
      .every((img) => img.complete && img.naturalWidth > 0), null, { timeout });
    await shot(page, 'supervisor-analytics');
    const figures = await page.$$eval('[data-figure]', (nodes) => Object.fromEntries(
      nodes.map((n) => [n.dataset.figure, n.innerText.trim()])));
    const charts = await page.$$eval('.charts img', (imgs) => imgs.map((i) => i.naturalWidth));
    return { figures, charts, phone: await phoneWidth(page) };
  });
}

let browser;
try {
  browser = await chromium.launch({ executablePath: scenario.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(timeout);
  const page = await context.newPage();
  const noise = /fonts\.googleapis\.com/;
  page.on('console', (m) => { if (['error'].includes(m.type()) && !noise.test(m.text())) result.console.push(m.text()); });
  page.on('pageerror', (e) => result.pageErrors.push(String(e)));
  page.on('requestfailed', (r) => { if (!noise.test(r.url())) result.failedRequests.push(r.url()); });
  await step('customer_strange_message', page, () => customerSaysSomethingStrange(page));
  await advisor(page);
  await supervisor(page);
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
