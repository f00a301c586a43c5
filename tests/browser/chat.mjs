// The chat example (examples/web/chat.html) in two headless Chromium tabs: they chat through a topic and
// play moves through a room in lockstep. Run by test_dashboard.py:
//
//   node chat.mjs http://127.0.0.1:HTTP/examples/web/chat.html?ws=ws://127.0.0.1:PORT/ws&channel=c screenshot.png
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const WAIT = 15000;
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                        '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const step = (name) => process.stdout.write(JSON.stringify({ step: name }) + '\n');

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
    timeout: 60000,
});
const failures = [];
try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
    const tabs = [await context.newPage(), await context.newPage()];
    for (const tab of tabs) {
        tab.on('pageerror', (err) => failures.push(`page error: ${err.message}`));
        await tab.goto(url);
        await tab.locator('#status', { hasText: 'connected' }).waitFor({ timeout: WAIT });
        await tab.locator('#nick').fill(tab === tabs[0] ? 'alice' : 'bob');
        await tab.locator('#nick').dispatchEvent('change');
    }
    // Both players are in the room before the first move.
    for (const tab of tabs)
        await tab.locator('#players li').nth(1).waitFor({ timeout: WAIT });
    // Players are shown by nickname, not by rooms client id.
    for (const tab of tabs) {
        for (const name of ['alice', 'bob'])
            await tab.locator('#players li', { hasText: name }).waitFor({ timeout: WAIT });
    }
    step('named');

    await tabs[0].locator('#say [name="text"]').fill('hello bob');
    await tabs[0].locator('#say button').click();
    await tabs[1].locator('#lines li', { hasText: 'hello bob' }).waitFor({ timeout: WAIT });
    await tabs[1].locator('#say [name="text"]').fill('hi alice');
    await tabs[1].locator('#say button').click();
    await tabs[0].locator('#lines li', { hasText: 'hi alice' }).waitFor({ timeout: WAIT });
    step('chatted');

    // Two moves queued at once: the second is released only when both tabs have seen the first.
    for (const move of ['e2e4', 'e7e5']) {
        await tabs[0].locator('#move [name="text"]').fill(move);
        await tabs[0].locator('#move button').click();
    }
    for (const tab of tabs)
        await tab.locator('#current .move', { hasText: 'e2e4' }).waitFor({ timeout: WAIT });
    await tabs[0].locator('#current button').click();
    await tabs[0].locator('#current', { hasText: 'Waiting for the other players' }).waitFor({ timeout: WAIT });
    await tabs[0].waitForTimeout(700);
    if (await tabs[0].locator('#current .move', { hasText: 'e7e5' }).count() !== 0)
        throw new Error('the second move was released before every player had seen the first');
    // The room state shows one player who has seen the move and one still looking at it.
    await tabs[0].locator('#players .tag', { hasText: 'seen' }).first().waitFor({ timeout: WAIT });
    await tabs[0].locator('#players .tag', { hasText: 'looking' }).first().waitFor({ timeout: WAIT });
    step('held');
    await tabs[1].locator('#current button').click();
    for (const tab of tabs)
        await tab.locator('#current .move', { hasText: 'e7e5' }).waitFor({ timeout: WAIT });
    step('released');

    await tabs[1].screenshot({ path: screenshot });
    if (failures.length)
        throw new Error(failures.join('\n'));
    step('done');
}
finally {
    await browser.close();
}
process.exit(0);
