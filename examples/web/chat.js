// Two tabs chat through a topic and play moves through a room (lockstep: a move is released to every
// player, and the next one only once each player has clicked "Seen").
//
// Run zgate with --gateway-allowed-origins http://127.0.0.1:8000 (pages of other origins may not open
// WebSockets), serve the repository root (python3 -m http.server 8000) and open
// http://127.0.0.1:8000/examples/web/chat.html?ws=ws://127.0.0.1:8080/ws&channel=lobby in two tabs.
import { ZgateClient } from '../../clients/js/zgate.js';

const params = new URLSearchParams(location.search);
const channel = params.get('channel') || 'lobby';
const wsUrl = params.get('ws') || `ws://${location.hostname || '127.0.0.1'}:8080/ws`;
const chatTopic = `chat.${channel}`;
const whoTopic = `chat.${channel}.who`;
const room = `moves.${channel}`;

const $ = (selector) => document.querySelector(selector);
const zg = new ZgateClient(wsUrl);

// Each tab has its own name (sessionStorage is per tab).
const nick = $('#nick');
nick.value = sessionStorage.getItem('zgate.nick') || `guest-${Math.floor(Math.random() * 9000 + 1000)}`;
nick.addEventListener('change', () => {
    sessionStorage.setItem('zgate.nick', nick.value.trim() || 'guest');
    announce();
});
sessionStorage.setItem('zgate.nick', nick.value);

// ---- who is who: rooms name their members by client id; each tab tells the others its nickname for
// its id on a topic, and answers a newcomer it has not heard of yet (so both sides learn each other)

const names = new Map();            // rooms client id -> nickname
let presenceReady = false;          // the presence subscription is in effect
let lastAnnounce = 0;               // Date.now() of our last announcement

function announce () {
    if (!presenceReady || !zg.roomClient)
        return;
    lastAnnounce = Date.now();
    names.set(zg.roomClient, nick.value);
    zg.publish(whoTopic, { client: zg.roomClient, nick: nick.value }).catch(complain);
}

zg.subscribe(whoTopic, (data) => {
    if (typeof data.client !== 'string' || typeof data.nick !== 'string')
        return;
    const known = names.has(data.client);
    names.set(data.client, data.nick);
    if (!known && data.client !== zg.roomClient)
        announce();
}).then(() => {
    presenceReady = true;
    announce();
}, complain);
// A new connection is a new client id
zg.on('client', announce);

$('#channel').textContent = channel;
$('#chat-topic').textContent = chatTopic;
$('#room-name').textContent = room;

function line (list, who, text) {
    const item = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'who';
    name.textContent = who;
    const when = document.createElement('span');
    when.className = 'when';
    when.textContent = new Date().toLocaleTimeString('en-GB');
    item.append(when, name, document.createTextNode(text));
    list.append(item);
    list.scrollTop = list.scrollHeight;
}

// A request that fails (e.g. while the connection is down) is reported in the chat, not lost.
function complain (err) {
    line($('#lines'), 'zgate', `error ${err.code ?? ''}: ${err.message}`);
}

zg.on('open', () => {
    $('#status').textContent = 'connected';
    $('#status').className = 'pill on';
});
zg.on('close', () => {
    $('#status').textContent = 'reconnecting';
    $('#status').className = 'pill off';
});

// ---- chat: a topic

zg.subscribe(chatTopic, (data) => line($('#lines'), data.from ?? '?', data.text ?? JSON.stringify(data)))
    .catch(complain);

$('#say').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = event.target.elements.text;
    zg.publish(chatTopic, { from: nick.value, text: input.value }).catch(complain);
    input.value = '';
});

// ---- moves: a room, acked by hand

function showMove (message) {
    const current = $('#current');
    const move = document.createElement('span');
    move.className = 'move';
    move.textContent = message.data.move ?? JSON.stringify(message.data);
    const who = document.createElement('span');
    who.className = 'muted';
    who.textContent = `#${message.seq} from ${message.data.from ?? '?'}`;
    const seen = document.createElement('button');
    seen.textContent = 'Seen';
    seen.addEventListener('click', () => {
        seen.disabled = true;
        message.ack().then(() => {
            line($('#history'), `#${message.seq} ${message.data.from ?? '?'}`, message.data.move ?? '');
            current.textContent = 'Waiting for the other players, then the next move…';
        }, complain);
    });
    current.replaceChildren(move, who, seen);
}

zg.join(room, showMove, {
    manual: true,
    onEvicted: (name, reason) => {
        $('#current').textContent = `Evicted from ${name} (${reason}); reload to play again.`;
    },
}).catch(complain);

$('#move').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = event.target.elements.text;
    zg.sendRoom(room, { from: nick.value, move: input.value }).catch(complain);
    input.value = '';
});

// Who is in the room, and who has acked the move in flight.
async function refreshPlayers () {
    try {
        const state = await zg.roomState(room);
        $('#players').replaceChildren(...state.members.map((member) => {
            const item = document.createElement('li');
            const status = document.createElement('span');
            const acked = member.acked || !state.in_flight;
            status.className = `tag ${acked ? 'acked' : 'waiting'}`;
            status.textContent = state.in_flight ? (member.acked ? 'seen' : 'looking') : 'ready';
            const name = document.createElement('span');
            const nickname = names.get(member.client);
            name.textContent = nickname ?? member.client;
            name.title = member.client;
            if (nickname === undefined) {
                name.className = 'mono';
                // Someone we have not heard of: maybe they missed us too (at most every 3 s)
                if (Date.now() - lastAnnounce > 3000)
                    announce();
            }
            item.append(name, status);
            return item;
        }));
    }
    catch {
        // Offline: the client reconnects by itself, and the next refresh shows the room again.
    }
}
setInterval(refreshPlayers, 1000);
