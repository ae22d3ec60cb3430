// Checks of the web console (`linesec serve`) in a real browser: Playwright
// (playwright-core) drives Chromium headless. tests/e2e/test_web_browser.sh
// sets up the line, starts the server and runs this file with:
//   LSEC_URL            the server's address (http://127.0.0.1:PORT)
//   LSEC_SHOTS          the folder the screenshots go to
//   LSEC_NODE_MODULES   the node_modules folder holding playwright-core
//   LSEC_CHROMIUM       the browser (default /usr/bin/chromium)
//   LSEC_GANG           a shell command running a gang run (the live view's check)
//   LSEC_ACK_BUILD      a shell command: olga builds a unit under the SOP versions she
//                       acknowledged (refused until she acknowledged flash 2)
// Each page's checks are one async function in `checks` below; it gets a
// fresh browser context (its own cookies) and reports through ctx.check.
// Prints "ok   ..." / "FAIL ..." lines; exits 1 when a check failed.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const modules = process.env.LSEC_NODE_MODULES;
const require = createRequire(modules ? path.join(modules, '..', 'package.json') : import.meta.url);
const { chromium } = require('playwright-core');

const base = process.env.LSEC_URL;
const shots = process.env.LSEC_SHOTS;
if (!base || !shots) {
  console.error('console.mjs: LSEC_URL and LSEC_SHOTS are needed');
  process.exit(2);
}

let failures = 0;
function check(what, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok || detail === undefined ? '' : `: ${detail}`}`);
  if (!ok) failures++;
}

// The people of the line the runner set up (tests/e2e/testlib.sh and the runner).
const alice = { name: 'alice', password: 'alice-pw' };
const wendy = { name: 'wendy', password: 'browser-wendy-pw' };
const vera = { name: 'vera', password: 'browser-vera-pw1' };
const bob = { name: 'bob', password: 'bob-pw-123' };
const olga = { name: 'olga', password: 'olga-pw-123' };

// Runs a shell command to its end: { code, out } (stdout and stderr together).
function sh(cmd) {
  return new Promise((resolve) => {
    const run = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout.on('data', (d) => { out += d; });
    run.stderr.on('data', (d) => { out += d; });
    run.on('exit', (code) => resolve({ code, out }));
  });
}

// Submits the form around selector after filling its password field; returns the POST's response.
async function signForm(page, form, password) {
  await page.fill(`${form} input[name=password]`, password);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.click(`${form} button[type=submit]`),
  ]);
  await page.waitForLoadState();
  return resp;
}

// Logs in through the form; returns the response of the form's POST.
async function login(page, who, password = who.password) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', who.name);
  await page.fill('input[name=password]', password);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${base}/login` && r.request().method() === 'POST'),
    page.click('button[type=submit]'),
  ]);
  await page.waitForLoadState();
  return resp;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function checkLogin(ctx, page) {
  await page.goto(`${base}/`);
  check('the dashboard without a session says to log in', (await page.textContent('main')).includes('log in'));
  await page.goto(`${base}/login`);
  await shot(page, 'login');
  // A wrong password: refused without saying why (the detail is the server's);
  // the next try within the line's back-off is answered at once with 429 and the wait.
  let resp = await login(page, wendy, 'not-her-password');
  check('a wrong password is refused (403)', resp.status() === 403, resp.status());
  const msg = await page.textContent('p.bad');
  check('the page says the name or password was refused', /name or password refused/.test(msg), msg);
  let t0 = Date.now();
  resp = await login(page, wendy, 'still-not-hers');
  let waited = Date.now() - t0;
  // One failure earns a wait of one to two seconds; a loaded machine may take
  // longer than that to send the next try, which is then a plain refusal that
  // doubles the wait: the try after it must meet the back-off.
  if (resp.status() === 403 && waited >= 1000) {
    t0 = Date.now();
    resp = await login(page, wendy, 'still-not-hers-either');
    waited = Date.now() - t0;
  }
  check(`the next wrong password is backed off at once (429 in ${waited} ms)`, resp.status() === 429, resp.status());
  check('... saying how long to wait', /try again in [0-9]+ s/.test(await page.textContent('p.bad')));
  const cookies = await page.context().cookies();
  check('no session cookie after refused logins', !cookies.some((c) => c.name === 'lsec_session'));
  // The right password: the dashboard, and an HttpOnly, SameSite=Strict session cookie.
  resp = await login(page, alice);
  check('alice logs in through the form (to the dashboard)', new URL(page.url()).pathname === '/', page.url());
  const session = (await page.context().cookies()).find((c) => c.name === 'lsec_session');
  check('the session cookie is HttpOnly and SameSite=Strict', !!session && session.httpOnly && session.sameSite === 'Strict');
  check('the dashboard names alice', (await page.textContent('main')).includes('alice (security-officer)'));
}

async function checkCsrf(ctx, page) {
  await login(page, alice);
  // The logout form with its CSRF field removed.
  await page.evaluate(() => document.querySelector('form[action="/logout"] input[name=csrf]').remove());
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${base}/logout`),
    page.click('form[action="/logout"] button'),
  ]);
  await page.waitForLoadState();
  check('a POST without the CSRF token is refused (403)', resp.status() === 403, resp.status());
  check('... saying why', (await page.textContent('main')).includes('CSRF token is missing or wrong'));
  // The same POST from page.request (the session cookie, no token).
  const r2 = await page.request.post(`${base}/logout`, { form: { x: '1' } });
  check('a POST with the cookie but no token is refused (403)', r2.status() === 403, r2.status());
  const r3 = await page.request.post(`${base}/logout`, { form: { csrf: '0'.repeat(64) } });
  check('a POST with a wrong token is refused (403)', r3.status() === 403, r3.status());
  await page.goto(`${base}/`);
  check('... and the session still stands', (await page.textContent('main')).includes('Units by state'));
}

async function checkDashboard(ctx, page) {
  await login(page, alice);
  const main = await page.textContent('main');
  check('the dashboard shows units by state', main.includes('Units by state'));
  const quarantined = await page.textContent('#states tr:has(td:text-is("quarantined")) td:nth-child(2)');
  check('one unit is quarantined', quarantined === '1', quarantined);
  const row = await page.textContent('#quarantine tr:has(a[href="/units/unit-001"])');
  check('the quarantine list names unit-001, the failed step and why', /SOP flash, step [a-z-]+: .*boot/.test(row), row);
  const next = await page.textContent('#quarantine tr:has(a[href="/units/unit-001"]) td.next');
  check('... and the next action in the SOP\'s words', /supervisor/i.test(next), next);
  check('the log verifies', (await page.textContent('#log')).includes('The log verifies'));
  check('the navigation links the live view', (await page.getAttribute('nav a[href="/live"]', 'href')) === '/live');
  await shot(page, 'dashboard');
}

async function checkLogout(ctx, page) {
  await login(page, alice);
  await Promise.all([page.waitForURL(`${base}/login`), page.click('form[action="/logout"] button')]);
  check('logout leads to the login page', new URL(page.url()).pathname === '/login');
  const resp = await page.goto(`${base}/`);
  check('after logout the dashboard is refused (401)', resp.status() === 401, resp.status());
  const ev = await page.request.get(`${base}/live/events`);
  check('after logout the live events are refused (401)', ev.status() === 401, ev.status());
}

// The rows of the live table: [station, socket, unit, sop, step, result] each.
async function liveRows(page) {
  return page.$$eval('#live tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
}

async function checkLive(ctx, page) {
  const gang = process.env.LSEC_GANG;
  if (!gang) {
    check('LSEC_GANG names the gang run to watch', false);
    return;
  }
  const anon = await page.request.get(`${base}/live/events`);
  check('the live events without a session are refused (401)', anon.status() === 401, anon.status());
  await login(page, vera);
  const events = await page.request.get(`${base}/live/events`);
  check('the live events are an event stream', /^text\/event-stream/.test(events.headers()['content-type'] ?? ''));
  check('... that tells the browser when to reconnect', /^retry: \d+$/m.test(await events.text()));
  const resp = await page.goto(`${base}/live`);
  check('vera (supervisor) opens the live view', resp.status() === 200, resp.status());
  const csp = resp.headers()['content-security-policy'] ?? '';
  check("the CSP allows this server's script alone", /default-src 'none'/.test(csp) && /script-src 'self'/.test(csp) && !/unsafe/.test(csp), csp);
  let loads = 0;
  page.on('load', () => loads++);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  // Before the gang run: the newest run of socket 1 is unit-001's failed build.
  const before = await liveRows(page);
  check('before the gang run the live view shows the last build (unit-001, failed)',
    before.length === 1 && before[0][2] === 'unit-001' && before[0][5] === 'failed', JSON.stringify(before));
  // The gang run, in another process, while the page is open.
  const run = spawn('bash', ['-c', gang], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  run.stdout.on('data', (d) => { out += d; });
  run.stderr.on('data', (d) => { out += d; });
  let exitCode = null;
  const exited = new Promise((resolve) => run.on('exit', (code) => { exitCode = code; resolve(code); }));
  const seen = new Set();
  let running = false, tookShot = false;
  const deadline = Date.now() + 120000;
  let rows = [];
  for (;;) {
    rows = await liveRows(page);
    for (const r of rows) {
      if (r[2]) seen.add(`${r[1]}:${r[2]}`);
      if (r[5] === 'running') {
        running = true;
        if (!tookShot && rows.length >= 2) {
          await shot(page, 'live');
          await page.setViewportSize({ width: 800, height: 1280 });
          await shot(page, 'live-tablet');
          await page.setViewportSize({ width: 1280, height: 900 });
          tookShot = true;
        }
      }
    }
    // Each unit runs four SOPs, each a run: the end is the last event after the gang exits.
    if (exitCode !== null && rows.length === 3 && rows.every((r) => r[5] === 'passed' && r[3] === 'debug-lock')) break;
    if (Date.now() > deadline) break;
    await page.waitForTimeout(200);
  }
  const code = await exited;
  check(`the gang run ends (exit ${code})`, code === 0, out);
  check('the live view showed sockets running', running);
  check('... three sockets, each with its unit', rows.length === 3 && new Set(rows.map((r) => r[1])).size === 3, JSON.stringify(rows));
  check('... the units gang-001..gang-003', ['gang-001', 'gang-002', 'gang-003'].every((u) => rows.some((r) => r[2] === u)), JSON.stringify(rows));
  check('... every result reached passed', rows.length === 3 && rows.every((r) => r[5] === 'passed'), JSON.stringify(rows));
  check('... the last step of each is shown with its outcome', rows.every((r) => / \(passed\)$/.test(r[4])), JSON.stringify(rows));
  check('... all without reloading the page', loads === 0, loads);
  check('... and without a script error', errors.length === 0, errors.join('; '));
  check('the passed results are marked', (await page.$$eval('#live td.ok', (tds) => tds.length)) === 3);
  if (!tookShot) {
    await shot(page, 'live');
    await page.setViewportSize({ width: 800, height: 1280 });
    await shot(page, 'live-tablet');
  }
  // Without script the page is the same table, refreshed by the server.
  const noscript = await ctx.browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const p2 = await noscript.newPage();
  await p2.goto(`${base}/live`);
  const plain = await liveRows(p2);
  check('without script the live page is a table of the same state', JSON.stringify(plain) === JSON.stringify(rows), JSON.stringify(plain));
  await p2.setViewportSize({ width: 800, height: 1280 });
  await p2.goto(`${base}/`);
  await shot(p2, 'dashboard-tablet');
  await noscript.close();
}


// A unit's device history record: its runs, its leaves and the inclusion proof of its leaves.
async function checkUnit(ctx, page) {
  await login(page, vera);
  const resp = await page.goto(`${base}/units/gang-001`);
  check('the record of gang-001 opens (200)', resp.status() === 200, resp.status());
  const runs = await page.$$eval('#runs tr', (trs) => trs.length - 1);
  check('... with its four runs (flash, provision, secure-boot, debug-lock)', runs === 4, runs);
  const events = await page.$$eval('#events tr', (trs) => trs.length - 1);
  check('... its steps and leaves', events > 20, events);
  check('... and a proof that checks against the signed checkpoint',
    (await page.textContent('#proof')).includes('The proof checks'), await page.textContent('#proof'));
  await shot(page, 'unit');
  const quarantined = await page.goto(`${base}/units/unit-001`);
  check('the record of quarantined unit-001 opens (200)', quarantined.status() === 200);
  check('... and shows its quarantine leaf', (await page.textContent('#events')).includes('unit.quarantine'));
}

// The written procedure in the console and its PDF, downloaded as a quality engineer would.
async function checkSopPdf(ctx, page) {
  await login(page, vera);
  await page.goto(`${base}/sops/flash/1`);
  check('SOP flash 1 shows its first step', (await page.textContent('article.sop')).includes('Seat the unit'));
  await shot(page, 'sop');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[href$="/export.pdf"]')]);
  check('the PDF link downloads flash-1.pdf', download.suggestedFilename() === 'flash-1.pdf', download.suggestedFilename());
  await download.saveAs(path.join(shots, 'flash-1.pdf'));
  await page.goto(`${base}/sops`);
  await shot(page, 'sops');
}

// Releases: an operator has no approval and a forged one is refused; the submitter cannot
// approve her own; a second officer approves, re-entering the password.
async function checkRelease(ctx, page) {
  await login(page, wendy);
  const csrf = await page.getAttribute('form[action="/logout"] input[name=csrf]', 'value');
  await page.goto(`${base}/releases`);
  check('wendy (operator) sees release 2.0.1 waiting', (await page.textContent('#releases')).includes('2.0.1'));
  check('... and no approval form', (await page.$$('form[action="/releases/approve"]')).length === 0);
  const forged = await page.request.post(`${base}/releases/approve`, { form: { csrf, release: 'sensor@2.0.1', password: wendy.password } });
  check('... and her forged approval is refused (403)', forged.status() === 403, forged.status());
  await page.context().clearCookies();
  await login(page, alice);
  await page.goto(`${base}/releases`);
  const form = 'tr:has(td:text-is("2.0.1")) + tr form[action="/releases/approve"]';
  check('alice sees the approval form of 2.0.1, saying what the signature means',
    (await page.textContent(form)).includes('I approve release 2.0.1 of product sensor'));
  let resp = await signForm(page, form, alice.password);
  check('alice, who submitted 2.0.1, cannot approve it', resp.status() === 403, resp.status());
  check('... and the page says why', /submit/i.test(await page.textContent('#result')), await page.textContent('#result'));
  await page.context().clearCookies();
  await login(page, bob);
  await page.goto(`${base}/releases`);
  resp = await signForm(page, form, 'not-bobs-password');
  check("bob's wrong password signs nothing (403)", resp.status() === 403, resp.status());
  resp = await signForm(page, form, bob.password);
  check('bob approves 2.0.1 with his password (200)', resp.status() === 200, resp.status());
  check('... 2.0.1 is approved', (await page.textContent('tr:has(td:text-is("2.0.1")) td.state')) === 'approved');
  await shot(page, 'releases');
}

// A new SOP version: bob approves flash 2 on its page; olga, who has not read it, is refused
// a run until she acknowledges it on the web.
async function checkSopApproveAck(ctx, page) {
  const build = process.env.LSEC_ACK_BUILD;
  await login(page, bob);
  await page.goto(`${base}/sops/flash/2`);
  check('flash 2 is a draft with one approval', (await page.textContent('#status')).includes('1 of 2'));
  const resp = await signForm(page, '#approve', bob.password);
  check('bob approves flash 2 on its page (200)', resp.status() === 200, resp.status());
  check('... it is now the current version', (await page.textContent('#status')).includes('This is the current version'));
  await shot(page, 'sop-approved');
  let run = await sh(build);
  check(`olga, who has not acknowledged flash 2, is refused a run (exit ${run.code})`, run.code !== 0 && /acknowledg/.test(run.out), run.out);
  await page.context().clearCookies();
  await login(page, olga);
  await page.goto(`${base}/ack`);
  const form = '#unread tr:has(td:text-is("flash")) form';
  check('olga is asked to acknowledge flash 2', (await page.textContent('#unread')).includes('flash'));
  await shot(page, 'ack');
  const ack = await signForm(page, form, olga.password);
  check('olga acknowledges flash 2 with her password (200)', ack.status() === 200, ack.status());
  run = await sh(build);
  check(`... and then the run goes ahead (exit ${run.code})`, run.code === 0, run.out);
}

// Every page's checks, in order; a new page adds its function here.
const checks = [
  ['login', checkLogin],
  ['csrf', checkCsrf],
  ['dashboard', checkDashboard],
  ['live', checkLive],
  ['unit', checkUnit],
  ['sop-pdf', checkSopPdf],
  ['release', checkRelease],
  ['sop-approve-ack', checkSopApproveAck],
  ['logout', checkLogout],
];

const browser = await chromium.launch({
  executablePath: process.env.LSEC_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
try {
  for (const [name, fn] of checks) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30000);
    try {
      await fn({ browser }, page);
    } catch (e) {
      check(`${name}: the checks ran without an error`, false, e.stack ?? String(e));
      await shot(page, `error-${name}`).catch(() => {});
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(failures ? `${failures} browser check(s) failed` : 'all browser checks ran');
process.exit(failures ? 1 : 0);
