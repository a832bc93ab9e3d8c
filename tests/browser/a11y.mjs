// Accessibility in headless Chromium (playwright-core + @axe-core/playwright): axe-core on every page and widget
// state tested, and a customer who books a call in the widget with the keyboard only (Tab, Shift+Tab, Enter,
// Space and typing), focus visible at every stop.
//
// Usage: node tests/browser/a11y.mjs <scenario.json> (written by tests/browser/test_accessibility.py, which
// judges what this script reports in `scenario.resultPath`). Screenshots go to `scenario.artifactsDir`.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const { AxeBuilder } = require('@axe-core/playwright');

const scenario = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const result = { steps: [], audits: [], console: [], pageErrors: [], failedRequests: [] };
const timeout = scenario.timeoutMs ?? 60000;
const base = scenario.baseUrl;
fs.mkdirSync(scenario.artifactsDir, { recursive: true });

const save = () => fs.writeFileSync(scenario.resultPath, JSON.stringify(result, null, 2));
const shot = (page, name) => page.screenshot({ path: path.join(scenario.artifactsDir, `a11y-${name}.png`) })
  .catch(() => {});

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

// axe-core with every rule it runs by default (WCAG 2.0/2.1 A and AA, best practices): each violation with its
// impact and the elements concerned. The test requires no serious or critical one.
async function audit(page, name) {
  await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete), null, { timeout });
  const report = await new AxeBuilder({ page }).analyze();
  const violations = report.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 6).map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    count: v.nodes.length,
  }));
  result.audits.push({ name, url: new URL(page.url()).pathname, violations, passes: report.passes.length });
  await shot(page, name);
  save();
  return violations;
}

// --- the keyboard ---------------------------------------------------------------------------------------------

// What has the focus, and whether a keyboard user can see it: an outline, or a box-shadow ring.
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const describe = el.tagName.toLowerCase() + Array.from(el.classList).map((c) => `.${c}`).join('');
  return {
    element: describe, text: (el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 60),
    role: el.getAttribute('role') || el.tagName.toLowerCase(), focusVisible: el.matches(':focus-visible'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 ? `${style.outlineWidth} ${style.outlineStyle} ${style.outlineColor}` : null,
    boxShadow: style.boxShadow !== 'none' ? style.boxShadow : null,
  };
});

// Press Tab (or Shift+Tab) until the focus is on an element matching `selector` (and `text`, a regular
// expression source, when given); every stop on the way is recorded.
async function tabTo(page, selector, { back = false, text = null, max = 80 } = {}) {
  const stops = [];
  const here = () => page.evaluate(({ selector, text }) => {
    const el = document.activeElement;
    return Boolean(el && el.matches(selector) && (!text || new RegExp(text, 'i').test(el.innerText || '')));
  }, { selector, text });
  if (await here()) return { presses: 0, focus: await focused(page), stops };
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const seen = await focused(page);
    stops.push(seen && `${seen.element} ${seen.text}`);
    if (await here()) return { presses: i + 1, focus: seen, stops };
  }
  throw new Error(`${back ? 'Shift+Tab' : 'Tab'} never reached ${selector} ${text || ''}: ${JSON.stringify(stops)}`);
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const botSelector = '.rw-conversation-container .rw-message .rw-response';
const botTexts = (page) => page.$$eval(botSelector, (nodes) => nodes.map((n) => n.innerText.replace(/\s+/g, ' ').trim()));

async function waitForBot(page, count, pattern) {
  await page.waitForFunction(({ selector, count, pattern }) => {
    const nodes = Array.from(document.querySelectorAll(selector)).slice(count);
    return nodes.some((n) => new RegExp(pattern, 'i').test(n.innerText.replace(/\s+/g, ' ')));
  }, { selector: botSelector, count, pattern }, { timeout });
  await page.waitForTimeout(1500); // the widget shows a turn's messages one after the other
}

// Type in the widget's input (which has the focus) and send with Enter.
async function typeAndSend(page, text) {
  const active = await page.evaluate(() => document.activeElement && document.activeElement.matches('.rw-new-message'));
  if (!active) throw new Error('the message input does not have the focus');
  const before = (await page.$$(botSelector)).length;
  await page.keyboard.type(text, { delay: 10 });
  await page.keyboard.press('Enter');
  return before;
}

async function keyboardBooking(page) {
  const k = scenario.keyboard;
  const focusStops = {};
  await step('kb_login', page, async () => {
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await Promise.all([page.waitForURL(`${base}/`, { waitUntil: 'load' }),
      page.click(`button.customer[data-customer="${k.customer}"]`)]);
    await page.waitForSelector('h1.hello', { timeout });
    await page.waitForSelector('.rw-launcher', { state: 'visible', timeout });
    await page.waitForTimeout(600); // the launcher slides in
  });
  await step('kb_open', page, async () => {
    const reached = await tabTo(page, '.rw-launcher');
    focusStops.launcher = reached.focus;
    await page.keyboard.press('Enter');
    await page.waitForSelector('.rw-conversation-container', { timeout });
    await page.waitForSelector('.rw-new-message:not([disabled])', { timeout });
    let input = await focused(page);
    if (!input || !input.element.includes('rw-new-message')) input = (await tabTo(page, '.rw-new-message')).focus;
    focusStops.input = input;
    await waitForBot(page, 0, k.greeting);
    const live = await page.evaluate(() => {
      const log = document.querySelector('.rw-messages-container');
      return log && { role: log.getAttribute('role'), live: log.getAttribute('aria-live'),
        relevant: log.getAttribute('aria-relevant'), label: log.getAttribute('aria-label') };
    });
    return { launcherPresses: reached.presses, live };
  });
  await step('kb_ask', page, async () => {
    const before = await typeAndSend(page, k.ask);
    await page.waitForFunction((count) => {
      const nodes = document.querySelectorAll('.rw-conversation-container .rw-message');
      return document.querySelectorAll('.rw-conversation-container .rw-replies .rw-reply').length > 0
        && nodes.length > count;
    }, before, { timeout });
    await page.waitForTimeout(1500);
    return { texts: (await botTexts(page)).slice(before) };
  });
  await step('kb_widget_buttons_audit', page, () => audit(page, 'widget-buttons'));
  await step('kb_slot', page, async () => {
    // Back from the input (Shift+Tab) to the replies. Hortense may first ask when (replies such as "Le plus tôt
    // possible", chosen with Enter), then offers slots: the first one that says an hour is chosen with Space.
    const picks = [];
    for (let round = 0; round < 3; round += 1) {
      const replies = await page.$$eval('.rw-replies .rw-reply', (nodes) => nodes.map((n) => ({
        text: n.innerText.trim(), role: n.getAttribute('role'), tabindex: n.getAttribute('tabindex') })));
      const slot = replies.find((r) => /\d{1,2}\s*h/.test(r.text));
      const before = (await page.$$(botSelector)).length;
      if (slot) {
        const reached = await tabTo(page, '.rw-replies .rw-reply', { back: true, text: '\\d{1,2}\\s*h' });
        focusStops.reply = reached.focus;
        await shot(page, 'kb-slot-focused');
        await page.keyboard.press('Space');
        await waitForBot(page, before, k.reasonPrompt);
        picks.push({ replies, key: 'Space', chosen: reached.focus.text, presses: reached.presses });
        return { picks, replies, chosen: reached.focus.text, texts: (await botTexts(page)).slice(before) };
      }
      if (!replies.length) throw new Error(`no reply buttons: ${JSON.stringify(await botTexts(page))}`);
      const reached = await tabTo(page, '.rw-replies .rw-reply', { back: true, text: `^${escape(replies[0].text)}$` });
      focusStops.preference = reached.focus;
      await page.keyboard.press('Enter');
      await page.waitForFunction(({ selector, count }) => document.querySelectorAll(selector).length > count
        && document.querySelectorAll('.rw-replies .rw-reply').length > 0, { selector: botSelector, count: before }, { timeout });
      await page.waitForTimeout(1500);
      picks.push({ replies, key: 'Enter', chosen: reached.focus.text, presses: reached.presses,
        texts: (await botTexts(page)).slice(before) });
    }
    throw new Error(`no slot offered: ${JSON.stringify(picks)}`);
  });
  await step('kb_reason', page, async () => {
    await tabTo(page, '.rw-new-message');
    const before = await typeAndSend(page, k.reason);
    await page.waitForFunction((count) => document.querySelectorAll('.rw-conversation-container .rw-message .rw-response').length > count,
      before, { timeout });
    await page.waitForTimeout(2000);
    return { texts: (await botTexts(page)).slice(before) };
  });
  await step('kb_confirm', page, async () => {
    const rounds = [];
    for (let round = 0; round < 4; round += 1) {
      const texts = await botTexts(page);
      if (texts.some((t) => new RegExp(k.booked, 'i').test(t))) return { rounds };
      const before = texts.length;
      const replies = await page.$$eval('.rw-replies .rw-reply', (nodes) => nodes.map((n) => n.innerText.trim()));
      const yes = replies.find((r) => /^(oui|confirm|je confirme|c'est bon|valider)/i.test(r));
      if (yes) {
        // A yes button: reached with Shift+Tab from the input (or Tab if the focus is elsewhere), pressed with Enter.
        const inInput = await page.evaluate(() => document.activeElement.matches('.rw-new-message'));
        const reached = await tabTo(page, '.rw-replies .rw-reply', { back: inInput, text: `^${escape(yes)}` });
        focusStops.yes = reached.focus;
        await page.keyboard.press('Enter');
        rounds.push({ button: yes, presses: reached.presses });
      } else {
        if (!(await page.evaluate(() => document.activeElement.matches('.rw-new-message')))) await tabTo(page, '.rw-new-message');
        await typeAndSend(page, 'oui');
        rounds.push({ typed: 'oui', replies });
      }
      await page.waitForFunction((count) => document.querySelectorAll('.rw-conversation-container .rw-message .rw-response').length > count,
        before, { timeout });
      await page.waitForTimeout(2000);
      rounds[rounds.length - 1].texts = (await botTexts(page)).slice(before);
    }
    const texts = await botTexts(page);
    if (!texts.some((t) => new RegExp(k.booked, 'i').test(t))) throw new Error(`not booked: ${JSON.stringify(rounds)}`);
    return { rounds };
  });
  await shot(page, 'kb-booked');
  await step('kb_close', page, async () => {
    // On a desktop the launcher closes the widget (rasa-webchat shows its close button on small screens only).
    const reached = await tabTo(page, '.rw-close-button, .rw-launcher');
    focusStops.close = reached.focus;
    await page.keyboard.press('Enter');
    await page.waitForSelector('.rw-conversation-container', { state: 'detached', timeout });
    await page.waitForTimeout(300);
    const after = await focused(page);
    return { presses: reached.presses, focusAfter: after };
  });
  await step('kb_escape', page, async () => {
    // Opened again with Enter (the focus is on the launcher), closed with Escape from the message input.
    await page.keyboard.press('Enter');
    await page.waitForSelector('.rw-conversation-container', { timeout });
    await page.waitForTimeout(300);
    const opened = await focused(page);
    await page.keyboard.press('Escape');
    await page.waitForSelector('.rw-conversation-container', { state: 'detached', timeout });
    await page.waitForTimeout(300);
    return { focusOpened: opened, focusAfter: await focused(page) };
  });
  await step('kb_focus_stops', page, async () => focusStops);
}

// --- the pages -------------------------------------------------------------------------------------------------

async function customerLogin(page, number) {
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await Promise.all([page.waitForURL(`${base}/`, { waitUntil: 'load' }),
    page.click(`button.customer[data-customer="${number}"]`)]);
  await page.waitForSelector('h1.hello', { timeout });
  await page.waitForSelector('.rw-launcher', { state: 'visible', timeout });
  await page.waitForTimeout(600);
}

async function customerPages(page) {
  await step('picker', page, async () => {
    await page.goto(`${base}/`, { waitUntil: 'load' });
    if (await page.$('form[action="/deconnexion"] button')) {
      await Promise.all([page.waitForURL(`${base}/`, { waitUntil: 'load' }), page.click('form[action="/deconnexion"] button')]);
    }
    await page.waitForSelector('.rw-launcher', { state: 'visible', timeout });
    await page.waitForTimeout(600);
    return audit(page, 'picker');
  });
  for (const customer of scenario.customers) {
    const id = customer.number;
    await step(`space-${id}`, page, async () => {
      await customerLogin(page, id);
      const found = { space: await audit(page, `space-${id}`) };
      const tabs = await page.$$eval('nav.tabs a.tab:not(.active)', (as) => as.map((a) => a.getAttribute('href')));
      for (const [i, href] of tabs.entries()) {
        await page.goto(base + href, { waitUntil: 'load' });
        found[`tab${i + 2}`] = await audit(page, `space-${id}-tab${i + 2}`);
      }
      if (customer.openWidget) {
        if (!(await page.$('.rw-conversation-container'))) await page.click('.rw-launcher');
        await page.waitForSelector('.rw-conversation-container', { timeout });
        await waitForBot(page, 0, customer.greeting);
        found.widget = await audit(page, `widget-greeting-${id}`);
        await page.click('.rw-launcher');
        await page.waitForSelector('.rw-conversation-container', { state: 'detached', timeout });
        // Connection lost (in another tab, whose socket the test cuts and then refuses): the widget shows its
        // "Connexion à Hortense…" bar while it tries again.
        const other = await page.context().newPage();
        let cut = false;
        const sockets = [];
        await other.route(/\/socket\.io\//, (route) => (cut ? route.abort() : route.continue()));
        await other.routeWebSocket(/\/socket\.io\//, (ws) => { if (!cut) { ws.connectToServer(); sockets.push(ws); } });
        await other.goto(`${base}/`, { waitUntil: 'load' });
        await other.waitForSelector('.rw-launcher', { state: 'visible', timeout });
        await other.waitForTimeout(600);
        if (!(await other.$('.rw-conversation-container'))) await other.click('.rw-launcher');
        await waitForBot(other, 0, customer.greeting);
        cut = true;
        await Promise.all(sockets.map((ws) => ws.close()));
        await other.waitForSelector('.rw-loading', { state: 'visible', timeout });
        found.connecting = await audit(other, `widget-connecting-${id}`);
        await other.close();
      }
      if (customer.bank) {
        await Promise.all([page.waitForURL(/\/rib\?/, { waitUntil: 'load' }), page.click('#changer-rib')]);
        found.bank = await audit(page, `bank-form-${id}`);
        // The form refused: its errors are announced and tied to their fields.
        await page.fill('#titulaire', customer.bank.holder);
        await page.fill('#iban', 'FR76 1234');
        await Promise.all([page.waitForLoadState('load'), page.click('form[action="/rib"] button[type="submit"]')]);
        await page.waitForSelector('.field-error, .error', { timeout });
        found.bankError = await audit(page, `bank-form-error-${id}`);
      }
      await page.goto(`${base}/`, { waitUntil: 'load' });
      await Promise.all([page.waitForURL(`${base}/`, { waitUntil: 'load' }), page.click('form[action="/deconnexion"] button')]);
      return found;
    });
  }
  await step('documents', page, async () => {
    await page.goto(base + scenario.verificationPath, { waitUntil: 'load' });
    const genuine = await audit(page, 'verification');
    await page.goto(base + scenario.unknownVerificationPath, { waitUntil: 'load' });
    return { genuine, unknown: await audit(page, 'verification-unknown') };
  });
}

async function consolePages(page) {
  await step('console-login', page, async () => {
    await page.goto(`${base}/console/login`, { waitUntil: 'load' });
    return audit(page, 'console-login');
  });
  await step('console-login-error', page, async () => {
    await page.fill('#email', scenario.supervisor);
    await page.fill('#password', 'pas le bon mot de passe');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/console/login"] button')]);
    return audit(page, 'console-login-error');
  });
  await step('console-signed-in', page, async () => {
    await page.goto(`${base}/console/login`, { waitUntil: 'load' });
    await page.fill('#email', scenario.supervisor);
    await page.fill('#password', scenario.password);
    await Promise.all([page.waitForURL(`${base}/console/calls`), page.click('form[action="/console/login"] button')]);
  });
  const pages = [
    ['console-upcoming', '/console/calls'],
    ['console-call', `/console/calls/${scenario.callId}`],
    ['console-transcript', `/console/calls/${scenario.callId}/transcript`],
    ['console-day', `/console/calls?day=${scenario.callDay}`],
    ['console-week', '/console/calls/week'],
    ['console-search', `/console/search?q=${encodeURIComponent(scenario.search)}`],
    ['console-search-none', '/console/search?q=zzzzzz'],
    ['console-review', '/console/review'],
    ['console-review-done', '/console/review?show=done'],
    ['console-analytics', `/console/analytics?${scenario.analyticsQuery}`],
    ['console-agenda', '/console/agenda'],
  ];
  for (const [name, url] of pages) {
    await step(name, page, async () => {
      await page.goto(base + url, { waitUntil: 'load' });
      if (!page.url().includes(url.split('?')[0])) throw new Error(`${url} led to ${page.url()}`);
      return audit(page, name);
    });
  }
}

let browser;
try {
  browser = await chromium.launch({ executablePath: scenario.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(timeout);
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') result.console.push(`${m.text()} @ ${page.url()}`); });
  page.on('pageerror', (e) => result.pageErrors.push(String(e)));
  page.on('requestfailed', (r) => result.failedRequests.push(`${r.url()} ${r.failure() && r.failure().errorText}`));
  const only = scenario.only || ['keyboard', 'customer', 'console'];
  if (only.includes('keyboard')) {
    // A keyboard failure is reported (and fails the test) but the pages are still audited.
    await keyboardBooking(page).catch((error) => { result.keyboardFailed = String(error && error.stack || error); });
  }
  if (only.includes('customer')) await customerPages(page);
  if (only.includes('console')) await consolePages(page);
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
