// 出示: fetches a dynamic QR code (valid 120 s, single use) and replaces it
// every 30 s, with a visible countdown; keeps the screen awake if allowed.
(function () {
  'use strict';
  var root = document.getElementById('show');
  var img = document.getElementById('qr');
  if (!root || !img) { return; }
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var countdown = document.getElementById('countdown');
  var errBox = document.getElementById('qr-error');
  var refreshBtn = document.getElementById('refresh');
  var next = 0;       // ms timestamp of the next refresh
  var expires = 0;    // ms timestamp the current code expires
  var loading = false;
  var lock = null;

  function load() {
    if (loading) { return; }
    loading = true;
    fetch(root.dataset.qr, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': token } })
      .then(function (r) {
        if (r.status === 401) { location.href = '/my/login'; throw new Error('login'); }
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body.error && body.error.message || '二维码生成失败'); }
          return body;
        });
      })
      .then(function (body) {
        img.src = body.image;
        img.dataset.serial = String((Number(img.dataset.serial) || 0) + 1);
        expires = body.expiresAt * 1000;
        next = Date.now() + body.refreshIn * 1000;
        errBox.hidden = true;
        tick();
      })
      .catch(function (e) {
        if (e.message === 'login') { return; }
        errBox.textContent = e.message + '，5 秒后重试';
        errBox.hidden = false;
        next = Date.now() + 5000;
      })
      .then(function () { loading = false; });
  }

  function tick() {
    if (!next) { return; }
    var now = Date.now();
    var left = Math.max(0, Math.ceil((next - now) / 1000));
    var valid = Math.max(0, Math.ceil((expires - now) / 1000));
    countdown.textContent = left + ' 秒后刷新 · 本码 ' + valid + ' 秒内有效';
    if (now >= next && !document.hidden) { load(); }
  }

  function wake() {
    if (navigator.wakeLock && !document.hidden) {
      navigator.wakeLock.request('screen').then(function (l) { lock = l; }).catch(function () {});
    }
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) {
      wake();
      if (Date.now() >= next || Date.now() >= expires) { load(); }
    }
  });
  if (refreshBtn) { refreshBtn.addEventListener('click', load); }
  setInterval(tick, 1000);
  wake();
  load();
})();
