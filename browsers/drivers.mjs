// One interface over two WebDriver clients, pinned in package-lock.json: puppeteer-core drives
// Firefox over WebDriver BiDi, and selenium-webdriver drives WebKitGTK's MiniBrowser (Safari's
// engine) through WebKitWebDriver. Each from Debian's packages (scripts/browsers.sh).
//
// A Page has goto(url), reload(), eval(expression) (awaiting a Promise; the value as JSON),
// poll(expression, ms), click(selector), stroke(selector, points) (a mouse drag through points
// given as fractions of the element's box), frame(selector) (the same, inside that iframe),
// resize(width) (of the window, resolving with the width the page then has), and errors(): the
// uncaught errors of every page it has shown. The page's boot.js keeps its uncaught errors
// (mnistBoot.errors); Firefox also reports them over BiDi.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { Builder, By } from 'selenium-webdriver';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// pageState is what a poll that waited in vain reports of the page (testhooks.js).
const pageState = `window.__mnist && {timings: window.__mnist.timings, team: window.__mnist.team, workers: window.__mnist.workers,
  training: document.body.classList.contains('training'), train: document.querySelector('#train').disabled ? 'disabled' : 'enabled',
  failure: window.__mnist.failure, keeping: window.__mnist.keeping}`;

// bootErrors reads the uncaught errors boot.js kept on the page shown now.
const bootErrors = 'window.mnistBoot ? window.mnistBoot.errors.slice() : []';

// Page holds what both drivers share: polling, and collecting errors before each navigation.
class Page {
  constructor() {
    this.seen = []; // errors of pages already left
  }

  async poll(expr, ms, what = expr) {
    const deadline = Date.now() + ms;
    let last;
    for (;;) {
      try {
        last = await this.eval(expr);
        if (last) return last;
      } catch (err) {
        last = err.message; // a page that is loading, or a frame not there yet
      }
      if (Date.now() > deadline) {
        const status = await this.eval(`document.querySelector('#status') && document.querySelector('#status').textContent`).catch((err) => err.message);
        // What the page did meanwhile: when it saw a click on Train, how far its team and its
        // offline copy got.
        const page = await this.eval(pageState).catch((err) => err.message);
        throw new Error(`waited ${ms / 1000} s for ${what}; last ${JSON.stringify(last)}; status ${JSON.stringify(status)}; page ${JSON.stringify(page)}`);
      }
      await sleep(100);
    }
  }

  async keepErrors() {
    const errors = await this.eval(bootErrors).catch(() => []);
    this.seen.push(...errors);
  }

  async goto(url) {
    await this.keepErrors();
    await this.navigate(url);
  }

  async reload() {
    await this.keepErrors();
    await this.refresh();
  }

  async errors() {
    return [...this.seen, ...(await this.eval(bootErrors).catch(() => []))];
  }

  async resize(width) {
    await this.setWidth(width);
    // Laid out again, and drawn, at the new width.
    return this.eval('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(window.innerWidth))))');
  }
}

// A browser that puppeteer-core drives, headless, with a fresh profile: Firefox over WebDriver
// BiDi, and Chromium over CDP (for the checks across engines; the Go tests drive it otherwise).
class PuppeteerPage extends Page {
  static async launch(engine, options) {
    const browser = await puppeteer.launch({ headless: true, defaultViewport: { width: 1280, height: 900 }, ...options });
    const page = new PuppeteerPage();
    page.engineName = engine;
    page.browser = browser;
    page.page = (await browser.pages())[0] || (await browser.newPage());
    page.bidiErrors = [];
    page.page.on('pageerror', (err) => page.bidiErrors.push(`${err.name}: ${err.message}`));
    page.target = page.page;
    return page;
  }

  get engine() {
    return this.engineName;
  }

  eval(expr) {
    return this.target.evaluate(`(async () => (${expr}))()`);
  }

  navigate(url) {
    return this.page.goto(url, { timeout: 60000 });
  }

  refresh() {
    return this.page.reload({ timeout: 60000 });
  }

  setWidth(width) {
    return this.page.setViewport({ width, height: 900 });
  }

  async click(sel) {
    await this.target.click(sel);
  }

  async stroke(sel, points) {
    const el = await this.target.$(sel);
    await el.scrollIntoView();
    const box = await el.boundingBox();
    const at = ([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height];
    const mouse = this.page.mouse;
    await mouse.move(...at(points[0]));
    await mouse.down();
    for (const p of points.slice(1)) await mouse.move(...at(p), { steps: 5 });
    await mouse.up();
  }

  async frame(sel) {
    const el = await this.page.$(sel);
    const frame = new PuppeteerPage();
    Object.assign(frame, { engineName: this.engineName, browser: this.browser, page: this.page, bidiErrors: this.bidiErrors, target: await el.contentFrame() });
    return frame;
  }

  async errors() {
    return [...(await super.errors()), ...this.bidiErrors];
  }

  close() {
    return this.browser.close();
  }
}

export const FirefoxPage = {
  open: () => PuppeteerPage.launch('firefox', { browser: 'firefox', executablePath: '/usr/bin/firefox-esr', protocol: 'webDriverBiDi' }),
};

// Chromium with the flags the Go tests use (pagetest/browser_test.go): nothing reaches past 127.0.0.1.
// $CHROMIUM names another binary than Debian's.
export const ChromiumPage = {
  open: () => PuppeteerPage.launch('chromium', {
    browser: 'chrome', executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  }),
};

// freePort finds a free port on 127.0.0.1 for WebKitWebDriver.
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// WebKitGTK's MiniBrowser through WebKitWebDriver, under the X server that scripts/browsers.sh
// starts (xvfb-run), in a C locale: there WebKit says navigator.language is "C", which the page
// must survive (boot.js).
export class WebKitPage extends Page {
  static async open() {
    const port = await freePort();
    const home = mkdtempSync(path.join(tmpdir(), 'webkit-'));
    const env = { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', HOME: home, XDG_DATA_HOME: home, XDG_CACHE_HOME: home };
    const driver = spawn('WebKitWebDriver', [`--port=${port}`], { stdio: 'ignore', env });
    const page = new WebKitPage();
    page.home = home;
    page.driverProcess = driver;
    const server = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) { // until WebKitWebDriver listens
      try {
        await fetch(`${server}/status`);
        break;
      } catch (err) {
        if (i === 100) throw new Error(`WebKitWebDriver did not start: ${err.message}`);
        await sleep(100);
      }
    }
    page.driver = await new Builder().usingServer(server).withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', args: ['--automation'] },
    }).build();
    await page.driver.manage().window().setRect({ width: 1280, height: 900 });
    page.frameSel = null;
    return page;
  }

  get engine() {
    return 'webkit';
  }

  // within runs fn in this page's frame, if it is one.
  async within(fn) {
    if (!this.frameSel) return fn();
    await this.driver.switchTo().frame(await this.driver.findElement(By.css(this.frameSel)));
    try {
      return await fn();
    } finally {
      await this.driver.switchTo().defaultContent();
    }
  }

  eval(expr) {
    return this.within(() => this.driver.executeScript(`return (async () => (${expr}))();`));
  }

  navigate(url) {
    return this.driver.get(url);
  }

  refresh() {
    return this.driver.navigate().refresh();
  }

  // setWidth sets the window's: MiniBrowser keeps it 447 px wide at least, its toolbar's width.
  setWidth(width) {
    return this.driver.manage().window().setRect({ width, height: 900 });
  }

  click(sel) {
    return this.within(async () => (await this.driver.findElement(By.css(sel))).click());
  }

  stroke(sel, points) {
    return this.within(async () => {
      const el = await this.driver.findElement(By.css(sel));
      await this.driver.executeScript('arguments[0].scrollIntoView({block: "center"})', el);
      const { width, height } = await el.getRect();
      // WebDriver offsets an element origin from the element's centre.
      const at = ([fx, fy]) => ({ origin: el, x: Math.round((fx - 0.5) * width), y: Math.round((fy - 0.5) * height) });
      let actions = this.driver.actions({ async: true }).move(at(points[0])).press();
      for (const p of points.slice(1)) actions = actions.move({ ...at(p), duration: 50 });
      await actions.release().perform();
    });
  }

  async frame(sel) {
    const frame = new WebKitPage();
    Object.assign(frame, { driver: this.driver, frameSel: sel });
    return frame;
  }

  async close() {
    await this.driver.quit().catch(() => {});
    const exited = new Promise((resolve) => this.driverProcess.once('exit', resolve));
    this.driverProcess.kill();
    await exited;
    try {
      rmSync(this.home, { recursive: true, force: true, maxRetries: 5 });
    } catch (err) {
      console.warn(`WebKit's temporary home ${this.home} is left: ${err.message}`); // a process still writes there
    }
  }
}
