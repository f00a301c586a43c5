// The zgate dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
// Run by test_dashboard.py, which starts zgate and the native (pyzmq) peers:
//
//   node dashboard.mjs http://127.0.0.1:PORT screenshot.png
//
// Steps are printed as JSON lines on stdout; after {"step":"ready"} the script waits for one line on stdin,
// which the test writes once its native client has published, so the page must show counts it did not cause.
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const [base, screenshot] = process.argv.slice(2);
const WAIT = 20000;             // ms for anything the page shows after an event (stats refresh every second)
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                        '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const step = (name, extra = {}) => process.stdout.write(JSON.stringify({ step: name, ...extra }) + '\n');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// The text of a table's cell, in the row whose first cell is `key`, column `column` (0-based).
async function cellText (page, table, key, column) {
    return page.evaluate(([table, key, column]) => {
        for (const row of document.querySelectorAll(`${table} tbody tr`)) {
            if (row.cells[0] && row.cells[0].textContent === key)
                return row.cells[column] ? row.cells[column].textContent : null;
        }
        return null;
    }, [table, key, column]);
}

async function waitCell (page, table, key, column, predicate, what) {
    const deadline = Date.now() + WAIT;
    let last = null;
    while (Date.now() < deadline) {
        last = await cellText(page, table, key, column);
        if (last !== null && predicate(last))
            return last;
        await page.waitForTimeout(100);
    }
    throw new Error(`timed out waiting for ${what} (last seen: ${JSON.stringify(last)})`);
}

const number = (text) => Number(String(text).replace(/,/g, ''));

async function submit (page, form, fields, expected) {
    for (const [name, value] of Object.entries(fields)) {
        const input = page.locator(`${form} [name="${name}"]`);
        if (typeof value === 'boolean')
            await input.setChecked(value);
        else
            await input.fill(String(value));
    }
    await page.locator(`${form} button[type="submit"]`).click();
    const result = page.locator(`${form} .result`);
    await result.filter({ hasText: expected }).waitFor({ timeout: WAIT });
    return result.textContent();
}

// Playwright gives every launch a fresh, temporary --user-data-dir of its own.
const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
    timeout: 60000,
});
const failures = [];
try {
    const page = await browser.newPage({ viewport: { width: 1480, height: 1000 } });
    page.on('pageerror', (err) => failures.push(`page error: ${err.message}`));
    page.on('console', (message) => {
        if (message.type() === 'error')
            failures.push(`console error: ${message.text()}`);
    });

    await page.goto(base + '/', { waitUntil: 'load' });
    await page.locator('#conn', { hasText: 'live' }).waitFor({ timeout: WAIT });
    await page.locator('#stats-age', { hasText: 'updated' }).waitFor({ timeout: WAIT });
    const publishedBefore = number(await page.locator('#kpi-published').textContent());
    step('loaded', { title: await page.title(), published: publishedBefore });

    // Watch the test's topics live over the page's own WebSocket session.
    await page.locator('#watch-form [name="topic"]').fill('dash.*');
    await page.locator('#watch-form button').click();
    await page.locator('#live-empty', { hasText: 'Watching dash.*' }).waitFor({ timeout: WAIT });

    step('ready');
    const go = await lines.next();
    const { published } = JSON.parse(go.value);

    // Counts the native publisher caused: the topics table, the KPI and the live table.
    await waitCell(page, '#topics-table', 'dash.native', 1, (text) => number(text) === published,
                   `dash.native published = ${published}`);
    const publishedAfter = number(await page.locator('#kpi-published').textContent());
    if (!(publishedAfter >= publishedBefore + published))
        throw new Error(`published KPI went from ${publishedBefore} to ${publishedAfter}`);
    await page.locator('#live-table tbody tr', { hasText: 'dash.native' }).first().waitFor({ timeout: WAIT });
    step('native-counts', { published: publishedAfter });

    // Publish from the page: the topic appears with its count, and the page's own watch sees it.
    await submit(page, '#publish-form', { topic: 'dash.web', data: '{"hello": "browser"}' }, 'published');
    await waitCell(page, '#topics-table', 'dash.web', 1, (text) => number(text) === 1, 'dash.web published = 1');
    step('published');

    // Enqueue for the native worker and wait for its reply; the task shows in the recently-done table.
    const reply = await submit(page, '#enqueue-form', { queue: 'dash.jobs', data: 'resize cat.png', reply: true },
                               'replied');
    if (!reply.includes('RESIZE CAT.PNG'))
        throw new Error(`unexpected reply text: ${reply}`);
    await waitCell(page, '#queues-table', 'dash.jobs', 3, (text) => number(text) >= 1, 'dash.jobs done >= 1');
    await page.locator('#done-table tbody tr', { hasText: 'RESIZE CAT.PNG' }).waitFor({ timeout: WAIT });
    step('enqueued', { reply });

    // Two messages to the native member's room: one in flight (not acked), one in the backlog.
    await submit(page, '#room-form', { room: 'dash.room', data: '{"move": "e2e4"}', oob: false }, 'as #1');
    await submit(page, '#room-form', { room: 'dash.room', data: '{"move": "e7e5"}', oob: false }, 'as #2');
    await waitCell(page, '#rooms-table', 'dash.room', 1, (text) => number(text) === 1, 'dash.room backlog = 1');
    await waitCell(page, '#rooms-table', 'dash.room', 2, (text) => number(text) === 1, 'dash.room members = 1');
    await page.locator('#members-table tbody tr', { hasText: 'waiting' }).waitFor({ timeout: WAIT });
    step('room');

    await page.locator('#detail-room', { hasText: 'dash.room' }).waitFor({ timeout: WAIT });
    await page.waitForTimeout(1200);        // let the flash highlights fade before the picture
    await page.screenshot({ path: screenshot, fullPage: true });
    step('screenshot', { path: screenshot });

    // Common screens: nothing wider than the window, every column and the Watch button in view.
    for (const [width, height] of [[1280, 800], [1920, 1080]]) {
        await page.setViewportSize({ width, height });
        await page.waitForTimeout(300);
        const fit = await page.evaluate(() => {
            // In the window and in its card, which clips what overflows it
            const inside = (element) => {
                const box = element.getBoundingClientRect();
                const card = element.closest('.card').getBoundingClientRect();
                return box.width > 0 && box.left >= 0 && box.right <= document.documentElement.clientWidth
                    && box.right <= card.right;
            };
            // Every column heading inside its card
            const clipped = [...document.querySelectorAll('table.data th')].filter((cell) => {
                const card = cell.closest('.card').getBoundingClientRect();
                const box = cell.getBoundingClientRect();
                return box.right > card.right + 0.5 || box.left < card.left - 0.5;
            }).map((cell) => `${cell.closest('table').id}: ${cell.textContent}`);
            return {
                scrollWidth: document.documentElement.scrollWidth,
                innerWidth: window.innerWidth,
                watch: inside(document.querySelector('#watch-form button')),
                clipped,
            };
        });
        const path = screenshot.replace(/\.png$/, `-${width}x${height}.png`);
        await page.screenshot({ path, fullPage: true });
        if (fit.scrollWidth > fit.innerWidth || !fit.watch || fit.clipped.length)
            throw new Error(`${width}x${height} does not fit: ${JSON.stringify(fit)}`);
        step('fits', { width, height, path });
    }
    if (failures.length)
        throw new Error(failures.join('\n'));
    step('done');
}
finally {
    await browser.close();
}
process.exit(0);
