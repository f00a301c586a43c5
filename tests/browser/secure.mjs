// The dashboard over HTTPS and WSS with security on, in headless Chromium (a self-signed certificate, so
// --ignore-certificate-errors). Run by test_dashboard.py:
//
//   node secure.mjs https://127.0.0.1:PORT ADMIN_TOKEN
//
// With the admin's token in the fragment the page's WebSocket authenticates (the pill says "live") and its
// stats polls succeed; without one the gateway closes its WebSocket (4002) and refuses /api/stats (401).
import { chromium } from 'playwright-core';

const [base, token] = process.argv.slice(2);
const WAIT = 20000;
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                        '--disable-background-networking', '--disable-component-update', '--disable-sync',
                        '--ignore-certificate-errors'];

const step = (name, extra = {}) => process.stdout.write(JSON.stringify({ step: name, ...extra }) + '\n');

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
    timeout: 60000,
});
try {
    const page = await browser.newPage();
    //  The page's console goes to stderr, which the test shows if a step fails
    page.on('console', (message) => process.stderr.write(`console: ${message.text()}\n`));
    await page.goto(`${base}/#token=${token}`, { waitUntil: 'load' });
    await page.locator('#conn').filter({ hasText: 'live' }).waitFor({ timeout: WAIT });
    step('live', { url: page.url() });
    const stats = await page.evaluate(async () => {
        const response = await fetch('/api/stats', {
            headers: { Authorization: `Bearer ${sessionStorage.getItem('zgate.token')}` },
        });
        return { status: response.status, sessions: (await response.json()).gateway.sessions };
    });
    step('stats', stats);
    const anonymous = await browser.newPage();
    await anonymous.goto(`${base}/`, { waitUntil: 'load' });
    const refused = await anonymous.evaluate(async () => {
        const status = (await fetch('/api/stats')).status;
        const code = await new Promise((resolve) => {
            const socket = new WebSocket(`wss://${location.host}/ws`);
            socket.onclose = (event) => resolve(event.code);
        });
        return { status, code };
    });
    step('anonymous', refused);
    step('done');
}
finally {
    await browser.close();
}
