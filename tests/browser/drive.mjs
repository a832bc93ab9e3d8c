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
const result = { steps: [], console: [], pageErrors: [], failedRequests: [], foreignRequests: [], screenshots: [] };
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

  await step('launcher', page, async () => {
    await page.waitForSelector('.rw-launcher', { state: 'visible', timeout });
    await page.waitForTimeout(600); // the launcher slides in (0.5 s animation)
    const look = await launcherLook(page);
    const focus = await launcherFocus(page);
    await shot(page, '02b-launcher-focused');
    return { look, focus };
  });

  await step('greeting', page, async () => {
    await openWidget(page);
    await waitForBotText(page, scenario.expect.greeting);
    return { texts: await botTexts(page) };
  });
  await shot(page, '03-widget-greeting');

  await step('widget_names', page, async () => page.evaluate(() => {
    const attr = (sel, name) => { const el = document.querySelector(sel); return el && el.getAttribute(name); };
    return { launcher: attr('.rw-launcher', 'aria-label'), expanded: attr('.rw-launcher', 'aria-expanded'),
      close: attr('.rw-close-button', 'aria-label'), send: attr('.rw-send', 'aria-label'),
      input: attr('.rw-new-message', 'aria-label') };
  }));

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

// --- Phones: every page fits the screen, the launcher is on it and the widget opens full-screen ------------

// Where the page stands on a phone screen: document width, sideways scrolling, zoom, what sticks out.
async function layout(page, name) {
  await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete), null, { timeout });
  // Measured against the phone's width: a page too wide also widens the layout viewport (innerWidth).
  const seen = await page.evaluate((width) => {
    const describe = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '')
      + Array.from(el.classList).map((c) => `.${c}`).join('');
    // Only what can widen the page: skip what a scrolling box or a fixed layer (the widget) contains.
    const contained = (el) => {
      for (let a = el; a && a !== document.body; a = a.parentElement) {
        const style = getComputedStyle(a);
        if (style.position === 'fixed') return true;
        if (a !== el && style.overflowX !== 'visible') return true;
      }
      return false;
    };
    const overflowing = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5) && !contained(el)) {
        overflowing.push(`${describe(el)} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
      }
    }
    // Text contrast (WCAG AA: 4.5:1, 3:1 for large text) of every visible text outside the widget, against the
    // nearest opaque background behind it; opacity included. The pages put no text over images or gradients.
    const rgba = (s) => (s.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const backdrop = (el) => {
      for (let a = el; a; a = a.parentElement) {
        const c = rgba(getComputedStyle(a).backgroundColor);
        if (c.length === 3 || c[3] > 0.9) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const lowContrast = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (el.closest('#hortense-chat') || !el.getClientRects().length) continue;
      const text = Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
      const style = getComputedStyle(el);
      if (!text || style.visibility === 'hidden') continue;
      let opacity = 1;
      for (let a = el; a; a = a.parentElement) opacity *= Number(getComputedStyle(a).opacity);
      const [fg, bg] = [rgba(style.color), backdrop(el)];
      const alpha = (fg.length > 3 ? fg[3] : 1) * opacity;
      const seen = fg.slice(0, 3).map((v, i) => v * alpha + bg[i] * (1 - alpha));
      const [hi, lo] = [lum(seen), lum(bg)].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
      if (ratio < (large ? 3 : 4.5)) lowContrast.push(`${describe(el)} "${text.slice(0, 40)}" ${ratio.toFixed(2)}:1`);
    }
    window.scrollTo(10000, window.scrollY);
    const scrollX = window.scrollX;
    window.scrollTo(0, 0);
    return {
      url: location.pathname + location.search, title: document.title, lang: document.documentElement.lang,
      heading: (document.querySelector('h1') || { innerText: '' }).innerText.trim(),
      verdict: (document.querySelector('.verdict') || { className: '' }).className,
      scrollWidth: document.documentElement.scrollWidth, bodyScrollWidth: document.body.scrollWidth,
      innerWidth: window.innerWidth, visualWidth: window.visualViewport.width, scale: window.visualViewport.scale, scrollX,
      overflowing: overflowing.slice(0, 10), lowContrast,
    };
  }, page.viewportSize().width);
  return { name, ...seen };
}

// What the launcher looks like, measured in the page (WCAG 2.x contrast ratios): its icon as drawn (the icon
// image rendered on a canvas over the launcher's own colour) against its colour, and its colour against the
// page behind it; its accessible name, and the focus ring it shows to a keyboard user when focused.
async function launcherLook(page) {
  return page.evaluate(async () => {
    const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (a, b) => {
      const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
      return Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
    };
    const launcher = document.querySelector('.rw-launcher');
    const style = getComputedStyle(launcher);
    const own = rgb(style.backgroundColor);
    // The page behind the launcher: the first opaque background under its centre, outside the widget.
    const r = launcher.getBoundingClientRect();
    let behind = [255, 255, 255];
    for (const el of document.elementsFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2)) {
      if (el.closest('#hortense-chat')) continue;
      let found = null;
      for (let a = el; a && !found; a = a.parentElement) {
        const c = rgb(getComputedStyle(a).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) found = c.slice(0, 3);
      }
      if (found) { behind = found; break; }
    }
    // The icon: the launcher's image drawn on a canvas filled with the launcher's colour; its colour is the
    // average of the pixels that differ from the background.
    const img = launcher.querySelector('img');
    let icon = null;
    if (img) {
      await (img.complete ? Promise.resolve() : new Promise((ok) => { img.onload = ok; }));
      const canvas = document.createElement('canvas');
      canvas.width = 64; canvas.height = 64;
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = style.backgroundColor;
      ctx.fillRect(0, 0, 64, 64);
      ctx.drawImage(img, 0, 0, 64, 64);
      const data = ctx.getImageData(0, 0, 64, 64).data;
      const sum = [0, 0, 0];
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const px = [data[i], data[i + 1], data[i + 2]];
        if (Math.abs(px[0] - own[0]) + Math.abs(px[1] - own[1]) + Math.abs(px[2] - own[2]) > 120) {
          px.forEach((v, k) => { sum[k] += v; }); n += 1;
        }
      }
      icon = n ? sum.map((v) => Math.round(v / n)) : own;
    }
    const opacities = [launcher, img].filter(Boolean).map((el) => Number(getComputedStyle(el).opacity));
    return {
      background: own, behind, icon, iconContrast: icon ? ratio(icon, own) : null, edgeContrast: ratio(own, behind),
      opacity: Math.min(...opacities), filter: style.filter,
      name: launcher.getAttribute('aria-label') || (launcher.innerText || '').trim(),
      expanded: launcher.getAttribute('aria-expanded'),
    };
  });
}

// Keyboard focus on the launcher: what ring it shows and its contrast with the page behind.
async function launcherFocus(page) {
  await page.keyboard.press('Tab'); // the last interaction is the keyboard: :focus-visible applies
  await page.focus('.rw-launcher');
  return page.evaluate(() => {
    const launcher = document.querySelector('.rw-launcher');
    const style = getComputedStyle(launcher);
    return { focused: document.activeElement === launcher, focusVisible: launcher.matches(':focus-visible'),
      outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
      outlineColor: style.outlineColor, boxShadow: style.boxShadow };
  });
}

// The launcher's box on the phone's screen (screen pixels from the top-left corner, whatever the zoom), and
// whether a tap at its centre reaches it.
async function launcherOnScreen(page) {
  await page.waitForSelector('.rw-launcher', { state: 'visible', timeout });
  await page.waitForTimeout(600); // the launcher slides in (0.5 s animation)
  return page.evaluate(() => {
    const launcher = document.querySelector('.rw-launcher');
    const r = launcher.getBoundingClientRect();
    const vv = window.visualViewport;
    const screen = (x, offset) => Math.round((x - offset) * vv.scale * 10) / 10;
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    return {
      left: screen(r.left, vv.offsetLeft), right: screen(r.right, vv.offsetLeft),
      top: screen(r.top, vv.offsetTop), bottom: screen(r.bottom, vv.offsetTop),
      reachable: Boolean(hit && hit.closest('.rw-launcher')),
    };
  });
}

// Tap the launcher; the widget must cover the whole screen (its input and close button on it), then close it.
async function openFullScreen(page, greeting) {
  await page.tap('.rw-launcher');
  await page.waitForSelector('.rw-conversation-container', { state: 'visible', timeout });
  await page.waitForSelector('.rw-new-message', { state: 'visible', timeout });
  if (greeting) await waitForBotText(page, greeting);
  await page.waitForTimeout(300);
  const seen = await page.evaluate(() => {
    const box = (sel) => {
      const el = document.querySelector(sel);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { left: Math.round(r.left), top: Math.round(r.top), right: Math.round(r.right),
        bottom: Math.round(r.bottom), visible: r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden' };
    };
    const messages = document.querySelector('.rw-messages-container');
    return {
      innerWidth: window.innerWidth, innerHeight: window.innerHeight, scrollWidth: document.documentElement.scrollWidth,
      container: box('.rw-widget-container'), conversation: box('.rw-conversation-container'),
      input: box('.rw-new-message'), close: box('.rw-close-button'), launcher: box('.rw-launcher'),
      messagesFit: messages ? messages.scrollWidth <= messages.clientWidth : null,
    };
  });
  return seen;
}

async function closeWidget(page) {
  await page.tap('.rw-close-button');
  await page.waitForSelector('.rw-conversation-container', { state: 'detached', timeout });
}

// Ask in the open widget and check the answer's chart fits the screen.
async function chartOnPhone(page, question, expected) {
  const before = await ask(page, question);
  await waitForBotText(page, expected, before);
  await imageLoaded(page, '.rw-conversation-container img.rw-image-frame');
  await page.waitForTimeout(500);
  await shot(page, `phone-${page.viewportSize().width}-widget-chart`);
  return page.evaluate(() => {
    const imgs = Array.from(document.querySelectorAll('.rw-conversation-container img.rw-image-frame'));
    const r = imgs[imgs.length - 1].getBoundingClientRect();
    const messages = document.querySelector('.rw-messages-container');
    return { left: Math.round(r.left), right: Math.round(r.right), width: Math.round(r.width),
      innerWidth: window.innerWidth, messagesFit: messages.scrollWidth <= messages.clientWidth };
  });
}

async function phones(browser) {
  const { devices } = require('playwright-core');
  const phone = devices['iPhone 13'];
  result.phones = [];
  for (const viewport of scenario.viewports) {
    const w = viewport.width;
    const context = await browser.newContext({
      ...phone, viewport, screen: viewport, locale: 'fr-FR', acceptDownloads: false,
    });
    context.setDefaultTimeout(timeout);
    const page = await context.newPage();
    watch(page, `${w}px`);
    const seen = { width: w, height: viewport.height, pages: [], launchers: [], widgets: [] };
    result.phones.push(seen);
    // A page left while its widget is still connecting (socket.io long-polling, before the upgrade to a
    // websocket) may log the server's 400 for the abandoned poll: wait until the socket is upgraded first.
    let upgraded = false;
    page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) upgraded = false; });
    page.on('websocket', (ws) => {
      if (ws.url().includes('/socket.io/')) ws.on('framereceived', () => { upgraded = true; });
    });
    const settle = async () => {
      if (!(await page.$('#hortense-chat'))) return;
      await until(() => upgraded, 'the widget connected over a websocket');
      await page.waitForTimeout(300);
    };
    const go = async (url) => {
      await settle();
      await page.goto(scenario.baseUrl + url, { waitUntil: 'load' });
      await settle();
    };
    const visit = async (name, url) => {
      if (url) await go(url);
      const measured = await layout(page, name);
      seen.pages.push(measured);
      await shot(page, `phone-${w}-${name}`);
      save();
      return measured;
    };
    const launcher = async (name) => {
      seen.launchers.push({ name, ...(await launcherOnScreen(page)), look: await launcherLook(page) });
      save();
    };
    const widget = async (name, greeting) => {
      const opened = await openFullScreen(page, greeting);
      await shot(page, `phone-${w}-${name}-widget`);
      seen.widgets.push({ name, ...opened });
      save();
      return opened;
    };

    await step(`${w}:picker`, page, async () => {
      await visit('picker', '/');
      await launcher('picker');
      await widget('picker', scenario.expect.anonymousGreeting);
      await closeWidget(page);
    });
    for (const customer of scenario.customers) {
      const id = customer.number;
      await step(`${w}:space-${id}`, page, async () => {
        await go('/');
        await Promise.all([
          page.waitForURL(scenario.baseUrl + '/', { waitUntil: 'load' }),
          page.tap(`button.customer[data-customer="${id}"]`),
        ]);
        await page.waitForSelector('h1.hello', { timeout });
        await visit(`space-${id}`);
        await launcher(`space-${id}`);
        await widget(`space-${id}`, customer.greeting);
        if (customer.chart && w === scenario.chartWidth) {
          seen.chart = await chartOnPhone(page, customer.chart.ask, customer.chart.expect);
        }
        await closeWidget(page);
        const tabs = await page.$$eval('nav.tabs a.tab:not(.active)', (as) => as.map((a) => a.getAttribute('href')));
        for (const [i, href] of tabs.entries()) {
          await visit(`space-${id}-tab${i + 2}`, href);
          await launcher(`space-${id}-tab${i + 2}`);
        }
      });
      if (customer.bank) {
        await step(`${w}:bank-${id}`, page, async () => {
          await go('/');
          await Promise.all([page.waitForURL(/\/rib\?/, { waitUntil: 'load' }), page.tap('#changer-rib')]);
          await visit(`bank-form-${id}`);
          if (customer.bank.iban && w === scenario.submitWidth) {
            await page.fill('#titulaire', customer.bank.holder);
            await page.fill('#iban', customer.bank.iban);
            await Promise.all([page.waitForURL(/\/rib\/confirmation\//, { waitUntil: 'load' }),
              page.tap('form[action="/rib"] button[type="submit"]')]);
            await visit(`bank-done-${id}`);
          }
        });
      }
      await step(`${w}:logout-${id}`, page, async () => {
        await go('/');
        await Promise.all([page.waitForURL(scenario.baseUrl + '/', { waitUntil: 'load' }),
          page.tap('form[action="/deconnexion"] button')]);
        await page.waitForSelector('button.customer', { timeout });
      });
    }
    await step(`${w}:documents`, page, async () => {
      await visit('verification', scenario.verificationPath);
      await visit('verification-unknown', scenario.unknownVerificationPath);
      await visit('not-found', scenario.notFoundPath);
    });
    await step(`${w}:console`, page, async () => {
      await visit('console-login', '/console/login');
      await page.fill('#email', scenario.advisor.email);
      await page.fill('#password', scenario.advisor.password);
      await Promise.all([page.waitForURL(/\/console\/calls/, { waitUntil: 'load' }),
        page.tap('form[action="/console/login"] button[type="submit"]')]);
      await visit('console-calls', `/console/calls?day=${scenario.callDay}`);
      const transcript = await page.getAttribute('a[href$="/transcript"]', 'href');
      await visit('console-transcript', transcript);
      await visit('console-agenda', '/console/agenda');
      await page.tap('form[action="/console/agenda/new"] button');
      await page.waitForSelector('input.url', { timeout }); // the new feed address, shown once
      await visit('console-agenda-feed');
      await Promise.all([page.waitForURL(/\/console\/login/, { waitUntil: 'load' }),
        page.tap('form[action="/console/logout"] button')]);
    });
    await context.close();
  }
}

// Console errors and warnings, page errors, failed requests and requests to any origin but the web app's and
// Rasa's (`scenario.origins`) of a page, labelled: the tests require none.
function watch(page, label = '') {
  const prefix = label ? `[${label}] ` : '';
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (['http:', 'https:'].includes(url.protocol) && !scenario.origins.includes(url.origin)) {
      result.foreignRequests.push(`${prefix}${r.url()}`);
    }
  });
  page.on('websocket', (ws) => {
    const url = new URL(ws.url().replace(/^ws/, 'http'));
    if (!scenario.origins.includes(url.origin)) result.foreignRequests.push(`${prefix}${ws.url()}`);
  });
  page.on('console', (m) => {
    if (['error', 'warning'].includes(m.type())) {
      result.console.push(`${prefix}${m.type()}: ${m.text()} @ ${m.location().url || page.url()}`);
    }
  });
  page.on('pageerror', (e) => result.pageErrors.push(`${prefix}${e}`));
  page.on('requestfailed', (r) => result.failedRequests.push(`${prefix}${r.url()} ${r.failure() && r.failure().errorText}`));
}

let browser;
let page;
try {
  browser = await chromium.launch({
    executablePath: scenario.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  if (scenario.mode === 'phones') {
    await phones(browser);
  } else {
    const context = await browser.newContext({
      acceptDownloads: true, locale: 'fr-FR', viewport: { width: 1280, height: 900 },
    });
    context.setDefaultTimeout(timeout);
    page = await context.newPage();
    watch(page);
    await (scenario.mode === 'renewal' ? renewal : journey)(context, page);
  }
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
