// Dashboard start-up: login by operator key, refresh loops per section, and notifications over the WebSocket stream.
'use strict';
(function (r) {
  const { el, api } = r;
  const $ = (id) => document.getElementById(id);
  const timers = [];
  let socket = null;
  let reconnectMs = 1000;

  function showLogin(message) {
    stop();
    r.saveKey(null);
    $('app').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('key').focus();
  }

  async function login(key) {
    r.saveKey(key);
    const res = await api('GET', '/api/v1/dashboard/session');
    if (res.status !== 200) {
      const reason = res.status === 401 || res.status === 403 ? 'That key is not an operator key.' : (res.body && res.body.error && res.body.error.message) || 'The API answered ' + res.status + '.';
      return showLogin(reason);
    }
    r.session.namespace = res.body.namespace;
    r.session.temporalUiUrl = res.body.temporalUiUrl;
    $('login').hidden = true;
    $('app').hidden = false;
    $('logout').hidden = false;
    $('namespace').textContent = 'namespace ' + res.body.namespace;
    start();
  }

  r.onUnauthorized = () => showLogin('Your key is no longer accepted; sign in again.');

  /** Runs `fn` now and every `ms`; a slow answer never stacks a second call behind it. */
  function every(ms, fn) {
    let busy = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        await fn();
      } catch (err) {
        console.warn(err);
      } finally {
        busy = false;
      }
    };
    tick();
    timers.push(setInterval(tick, ms));
  }

  function start() {
    every(500, r.refreshInflight);
    every(3000, async () => {
      await r.refreshFiles();
      await r.refreshLoads();
    });
    every(10000, r.refreshSyncs);
    every(10000, r.refreshDistributions);
    every(3000, r.refreshDeliveries);
    // Whole days of history: a minute is fresh enough, and the period form redraws at once.
    every(60000, r.refreshCharts);
    connect();
  }

  function stop() {
    timers.splice(0).forEach(clearInterval);
    if (socket) {
      socket.onclose = null;
      socket.close();
      socket = null;
    }
  }

  // ---------------------------------------------------------------- notifications
  function connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/events/stream';
    socket = new WebSocket(url);
    socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', key: r.session.key }));
    socket.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === 'ready') {
        reconnectMs = 1000;
        setLive(true);
        $('notification-list').replaceChildren(...msg.recent.map(notificationItem));
        emptyNotifications();
      } else if (msg.type === 'notification') {
        $('notification-list').prepend(notificationItem(msg.notification));
        emptyNotifications();
        r.toast(msg.notification.title, msg.notification.severity);
      }
    };
    socket.onclose = (ev) => {
      setLive(false);
      if (ev.code === 4401 || ev.code === 4403) return showLogin('The event stream refused your key.');
      // The API restarting is routine: come back with a growing pause, up to 30 s.
      setTimeout(() => r.session.key && !$('app').hidden && connect(), reconnectMs);
      reconnectMs = Math.min(reconnectMs * 2, 30000);
    };
  }

  function setLive(on) {
    const c = $('conn');
    c.textContent = on ? 'live' : 'reconnecting…';
    c.className = 'pill ' + (on ? 'live' : 'down');
  }

  function emptyNotifications() {
    $('notifications').classList.toggle('is-empty', !$('notification-list').firstChild);
  }

  function notificationItem(n) {
    return el('li', { class: 'notification sev-' + n.severity, dataset: { kind: n.kind, id: n.id } },
      el('div', { class: 'n-head' }, el('strong', {}, n.title), ' ', r.ago(n.at), n.workflowId ? [' · ', r.temporalLink(n.workflowId, 'Temporal')] : ''),
      el('div', { class: 'n-body' }, n.message));
  }

  // ---------------------------------------------------------------- boot
  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const key = $('key').value.trim();
      if (key) login(key);
    });
    $('logout').addEventListener('click', () => showLogin('Signed out.'));
    if (r.session.key) login(r.session.key);
    else showLogin('');
  });
})(window.refdata);
