// zgate dashboard: live counters from the gateway's HTTP API, actions over the WebSocket with zgate.js.
import { ZgateClient } from '/zgate.js';

// The gateway pushes no stats over the WebSocket: the page polls GET /api/stats, GET /api/rooms/{room} for
// the rooms it shows, and GET /api/tasks/{id} once per finished task for its result.
const STATS_URL = '/api/stats';
const STATS_INTERVAL = 1000;            // ms between stats polls
const LIVE_ROWS = 100;                  // messages kept in the live table
const DONE_ROWS = 50;                   // tasks kept in the recently-done table
const MAX_ROOMS = 20;                   // rooms whose state is polled
const ROOMS_KEY = 'zgate.rooms';        // localStorage key of the rooms this browser has touched

const $ = (selector) => document.querySelector(selector);
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
// With security on, the dashboard needs an admin's token: open it as /#token=<JWT>. The token is kept in
// this tab's sessionStorage and taken out of the address bar; the fragment never reaches the server.
const TOKEN_KEY = 'zgate.token';
function takeToken () {
    const match = location.hash.match(/token=([^&]+)/);
    if (match) {
        sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
        history.replaceState(null, '', location.pathname);
    }
    return sessionStorage.getItem(TOKEN_KEY);
}
const token = takeToken();
const authHeaders = token ? { Authorization: `Bearer ${token}` } : {};
const zg = new ZgateClient(wsUrl, token ? { token } : {});

// Rooms this browser touched, from earlier visits; storage that is absent or unreadable starts empty.
function loadKnownRooms () {
    try {
        const rooms = JSON.parse(localStorage.getItem(ROOMS_KEY) || '[]');
        return new Set(Array.isArray(rooms) ? rooms.filter((room) => typeof room === 'string') : []);
    }
    catch {
        return new Set();
    }
}

const state = {
    selectedRoom: null,                 // room shown in the detail card
    results: new Map(),                 // task id -> result text (or a pending fetch), for recently done
    watched: null,                      // topic pattern the live table follows
    lastStats: 0,                       // Date.now() of the last good stats answer
    // Rooms to show: the rooms actor lists only the largest backlogs, so the page also remembers the
    // rooms this browser sent to or picked.
    knownRooms: loadKnownRooms(),
    roomStates: new Map(),              // room -> its STATE map from the last poll
};

function rememberRoom (room) {
    state.knownRooms.delete(room);
    state.knownRooms.add(room);
    while (state.knownRooms.size > MAX_ROOMS)
        state.knownRooms.delete(state.knownRooms.values().next().value);
    localStorage.setItem(ROOMS_KEY, JSON.stringify([...state.knownRooms]));
}

// ---- helpers

function fmt (value) {
    if (value === undefined || value === null)
        return '–';
    return typeof value === 'number' ? value.toLocaleString('en-US') : String(value);
}

function count (value, noun) {
    const number = value || 0;
    return `${fmt(number)} ${noun}${number === 1 ? '' : 's'}`;
}

function clock (ms) {
    if (!ms)
        return '–';
    return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

function ago (ms) {
    if (!ms)
        return '–';
    const seconds = Math.max(0, (Date.now() - ms) / 1000);
    return seconds < 60 ? `${seconds.toFixed(1)} s ago` : `${Math.round(seconds / 60)} min ago`;
}

function show (data) {
    if (data instanceof Uint8Array)
        return `(${data.length} bytes)`;
    return typeof data === 'string' ? data : JSON.stringify(data);
}

// Form text is JSON when it parses as JSON, otherwise a plain string.
function parseData (text) {
    const trimmed = text.trim();
    if (trimmed === '')
        return null;
    try {
        return JSON.parse(trimmed);
    }
    catch {
        return text;
    }
}

function cell (text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className)
        td.className = className;
    td.title = text;
    return td;
}

function tag (text, kind) {
    const td = document.createElement('td');
    const span = document.createElement('span');
    span.className = `tag tag-${kind}`;
    span.textContent = text;
    td.append(span);
    return td;
}

// Replaces a table body with rows built by `build (key, value)`; rows whose content changed flash.
function fillTable (id, entries, build) {
    const table = $(id);
    const body = table.tBodies[0];
    const before = new Map([...body.rows].map((row) => [row.dataset.key, row.textContent]));
    body.replaceChildren(...entries.map(([key, value]) => {
        const row = build(key, value);
        row.dataset.key = key;
        if (before.has(key) && before.get(key) !== row.textContent)
            row.classList.add('flash');
        return row;
    }));
    $(`${id.replace('-table', '-empty')}`).hidden = entries.length > 0;
}

function setKpi (id, value) {
    const node = $(id);
    const text = fmt(value);
    if (node.textContent !== text) {
        node.textContent = text;
        node.classList.add('bump');
        setTimeout(() => node.classList.remove('bump'), 600);
    }
}

function sum (objects, field) {
    return objects.reduce((total, counters) => total + (counters[field] || 0), 0);
}

// ---- rendering

// Topics starting with `$zgate.` are the gateway's own (it publishes on them internally): the page leaves
// them out of the table and of the totals.
function renderTopics (topics) {
    const all = Object.entries(topics.topics || {});
    const internal = all.filter(([name]) => name.startsWith('$zgate.')).map(([, counters]) => counters);
    const entries = all.filter(([name]) => !name.startsWith('$zgate.')).sort(([a], [b]) => a.localeCompare(b));
    $('#topics-count').textContent = entries.length;
    setKpi('#kpi-published', (topics.published || 0) - sum(internal, 'published'));
    setKpi('#kpi-delivered', (topics.delivered || 0) - sum(internal, 'delivered'));
    fillTable('#topics-table', entries, (name, counters) => {
        const row = document.createElement('tr');
        row.append(cell(name, 'name'), cell(fmt(counters.published), 'num'),
                   cell(fmt(counters.delivered), 'num'), cell(fmt(counters.subscribers), 'num'));
        return row;
    });
}

function renderQueues (queues) {
    const entries = Object.entries(queues.queues || {}).sort(([a], [b]) => a.localeCompare(b));
    const all = entries.map(([, counters]) => counters);
    $('#queues-count').textContent = entries.length;
    setKpi('#kpi-waiting', sum(all, 'waiting'));
    setKpi('#kpi-running', sum(all, 'in_progress'));
    setKpi('#kpi-done', sum(all, 'done'));
    fillTable('#queues-table', entries, (name, counters) => {
        const row = document.createElement('tr');
        const failed = (counters.failed || 0) + (counters.dead || 0);
        row.append(cell(name, 'name'), cell(fmt(counters.waiting), 'num'), cell(fmt(counters.in_progress), 'num'),
                   cell(fmt(counters.done), 'num'), cell(fmt(failed), 'num'), cell(fmt(counters.workers), 'num'));
        return row;
    });
    renderDone(queues.recent || []);
}

// The stats list finished tasks without their results: fetch each one's once, while zgate keeps it.
function fetchResult (id) {
    if (state.results.has(id))
        return;
    state.results.set(id, '…');
    getJson(`/api/tasks/${encodeURIComponent(id)}`).then(
        (task) => state.results.set(id, task.state === 'done' ? show(task.data ?? '') : task.reason || ''),
        () => state.results.set(id, '(result expired)'));
}

function renderDone (recent) {
    const entries = recent.slice(0, DONE_ROWS).map((task) => [String(task.id), task]);
    for (const [id] of entries)
        fetchResult(id);
    for (const id of state.results.keys()) {
        if (!entries.some(([shown]) => shown === id))
            state.results.delete(id);
    }
    fillTable('#done-table', entries, (id, task) => {
        const row = document.createElement('tr');
        const kind = task.state === 'done' ? 'good' : task.state === 'failed' ? 'warn' : 'bad';
        row.append(cell(clock(task.finished)), cell(`${task.queue} #${id}`, 'name'), cell(fmt(task.attempt), 'num'));
        const result = cell(state.results.get(id), 'payload wide');
        result.prepend(tag(task.state, kind).firstChild, ' ');
        row.append(result);
        return row;
    });
}

function renderRooms (rooms) {
    $('#rooms-count').textContent = fmt(rooms.rooms ?? 0);
    setKpi('#kpi-backlog', rooms.backlog);
    $('#kpi-rooms-note').textContent = `${count(rooms.rooms, 'room')} · ${count(rooms.members, 'member')}`;
    // Rooms that exist (a state with members, backlog or a message in flight), largest backlog first.
    const shown = [...state.roomStates.values()]
        .filter((room) => room.backlog > 0 || room.members.length > 0 || room.in_flight)
        .sort((a, b) => b.backlog - a.backlog || a.room.localeCompare(b.room));
    fillTable('#rooms-table', shown.map((room) => [room.room, room]), (name, room) => {
        const row = document.createElement('tr');
        row.className = 'selectable';
        if (name === state.selectedRoom)
            row.classList.add('selected');
        const holders = room.acked.length + (room.in_flight ? room.in_flight.waiting : 0);
        row.append(cell(name, 'name'), cell(fmt(room.backlog), 'num'), cell(fmt(room.members.length), 'num'),
                   room.in_flight ? cell(`#${room.in_flight.seq}`) : tag('idle', 'plain'),
                   room.in_flight ? cell(`${room.acked.length} of ${holders}`) : cell('–'));
        row.addEventListener('click', () => selectRoom(name));
        return row;
    });
    renderRoomDetail(state.roomStates.get(state.selectedRoom));
}

function renderRoomDetail (room) {
    $('#detail-room').textContent = state.selectedRoom || '–';
    const members = room ? room.members : [];
    fillTable('#members-table', members.map((member) => [member.client, member]), (client, member) => {
        const row = document.createElement('tr');
        row.append(cell(client, 'name'), tag(member.async ? 'observer' : 'member', member.async ? 'plain' : 'good'),
                   cell(ago(member.last_seen)));
        row.append(room.in_flight && !member.async
            ? tag(member.acked ? 'acked' : 'waiting', member.acked ? 'good' : 'warn')
            : cell('–'));
        return row;
    });
    if (!state.selectedRoom)
        $('#members-empty').textContent = 'Pick a room in the Rooms card.';
    else if (members.length === 0)
        $('#members-empty').textContent = 'This room has no members.';
}

function selectRoom (name) {
    state.selectedRoom = name;
    rememberRoom(name);
    for (const row of $('#rooms-table').tBodies[0].rows)
        row.classList.toggle('selected', row.dataset.key === name);
    $('#room-form').elements.room.value = name;
    renderRoomDetail(state.roomStates.get(name));
}

// ---- polling

async function getJson (url) {
    const response = await fetch(url, { cache: 'no-store', headers: authHeaders });
    if (!response.ok)
        throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
}

// The state of every room worth showing: the largest backlogs, and the rooms this browser touched.
async function refreshRoomStates (rooms) {
    const names = new Set((rooms.top_rooms || []).map((room) => room.room));
    for (const name of state.knownRooms)
        names.add(name);
    const states = await Promise.all([...names].slice(0, MAX_ROOMS).map((name) =>
        getJson(`/api/rooms/${encodeURIComponent(name)}`).catch(() => null)));
    state.roomStates = new Map(states.filter(Boolean).map((room) => [room.room, room]));
}

async function refreshStats () {
    try {
        const stats = await getJson(STATS_URL);
        renderTopics(stats.topics || {});
        renderQueues(stats.queues || {});
        await refreshRoomStates(stats.rooms || {});
        renderRooms(stats.rooms || {});
        const gateway = stats.gateway || {};
        setKpi('#kpi-sessions', gateway.sessions);
        state.lastStats = Date.now();
        $('#stats-age').textContent = `updated ${clock(state.lastStats)}`;
    }
    catch (err) {
        $('#stats-age').textContent = `stats unavailable (${err.message})`;
    }
}

function poll () {
    refreshStats().finally(() => setTimeout(poll, STATS_INTERVAL));
}

// ---- connection status

function setConnected (on) {
    const pill = $('#conn');
    pill.textContent = on ? 'live' : 'reconnecting';
    pill.className = `pill ${on ? 'pill-on' : 'pill-off'}`;
}

zg.on('open', () => setConnected(true));
zg.on('close', () => setConnected(false));

// ---- forms

function report (form, promise, success) {
    const result = form.querySelector('.result');
    const button = form.querySelector('button');
    result.className = 'result';
    result.textContent = 'sending…';
    button.disabled = true;
    promise.then(
        (value) => {
            result.className = 'result ok';
            result.textContent = success(value);
        },
        (err) => {
            result.className = 'result err';
            result.textContent = `error ${err.code ?? ''}: ${err.message}`;
        }).finally(() => {
        button.disabled = false;
    });
}

$('#publish-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    const topic = form.elements.topic.value.trim();
    report(form, zg.publish(topic, parseData(form.elements.data.value)), () => `published to ${topic}`);
});

$('#enqueue-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    const queue = form.elements.queue.value.trim();
    const data = parseData(form.elements.data.value);
    if (form.elements.reply.checked) {
        const result = form.querySelector('.result');
        let task = null;
        const onAccepted = (id) => {
            task = id;
            result.textContent = `task #${id} accepted, waiting for its reply…`;
        };
        report(form, zg.call(queue, data, { onAccepted }), (reply) => `task #${task} replied ${show(reply)}`);
    }
    else
        report(form, zg.send(queue, data), (id) => `task #${id} accepted`);
});

$('#room-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    const room = form.elements.room.value.trim();
    const oob = form.elements.oob.checked;
    const priority = Number(form.elements.priority.value || 0);
    report(form, zg.sendRoom(room, parseData(form.elements.data.value), oob ? { oob } : { priority }),
           (answer) => oob ? `out of band to ${fmt(answer.count)} members of ${room}`
               : `queued in ${room} as #${answer.seq}`);
    selectRoom(room);
});

$('#watch-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const topic = event.target.elements.topic.value.trim();
    if (!topic || topic === state.watched)
        return;
    if (state.watched)
        zg.unsubscribe(state.watched).catch(() => {});
    state.watched = topic;
    $('#live-empty').textContent = `Watching ${topic}: no message yet.`;
    try {
        await zg.subscribe(topic, (data, name) => {
            const body = $('#live-table').tBodies[0];
            const row = document.createElement('tr');
            row.className = 'flash';
            row.append(cell(clock(Date.now())), cell(name, 'name'), cell(show(data), 'payload'));
            body.prepend(row);
            while (body.rows.length > LIVE_ROWS)
                body.deleteRow(-1);
            $('#live-empty').hidden = true;
        });
    }
    catch (err) {
        $('#live-empty').textContent = `Cannot watch ${topic}: ${err.message}`;
        state.watched = null;
    }
});

poll();
