// Counter page: keeps the scan input focused for USB/Bluetooth scanners
// (they type the code and press Enter, which submits the form) and offers a
// camera: frames are posted to /counter/decode and decoded on the server.
(function () {
  'use strict';
  var form = document.getElementById('scan-form');
  var input = document.getElementById('scan-text');
  if (!form || !input) { return; }
  var token = document.querySelector('meta[name="csrf-token"]').content;

  function refocus() {
    var a = document.activeElement;
    // Leave focus alone while the clerk uses another control.
    if (a && a !== document.body && a !== input && a.matches('input, select, textarea, button, a')) { return; }
    input.focus({ preventScroll: true });
  }
  input.focus({ preventScroll: true });
  document.addEventListener('click', function () { setTimeout(refocus, 0); });
  document.addEventListener('keydown', function (e) {
    // A scanner's first character lands in the input wherever focus was.
    if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey && document.activeElement === document.body) {
      input.focus({ preventScroll: true });
    }
  });
  form.addEventListener('change', function (e) {
    if (e.target.name === 'purpose') {
      if (e.target.value === '其他') { document.getElementById('other').focus(); } else { input.focus({ preventScroll: true }); }
    }
  });
  form.addEventListener('submit', function () {
    input.value = input.value.trim();
  });
  window.addEventListener('focus', refocus);

  // Camera.
  var startBtn = document.getElementById('camera-start');
  var box = document.getElementById('camera');
  var video = document.getElementById('camera-video');
  var status = document.getElementById('camera-status');
  var stopBtn = document.getElementById('camera-stop');
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.isSecureContext) { return; }
  startBtn.hidden = false;
  var stream = null;
  var timer = null;
  var busy = false;
  var canvas = document.createElement('canvas');

  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    box.hidden = true;
    input.focus({ preventScroll: true });
  }

  function grab() {
    if (busy || !video.videoWidth) { return; }
    busy = true;
    var w = video.videoWidth, h = video.videoHeight, scale = Math.min(1, 1280 / Math.max(w, h));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (!blob) { busy = false; return; }
      fetch('/counter/decode', { method: 'POST', body: blob, credentials: 'same-origin',
        headers: { 'Content-Type': 'image/jpeg', 'X-CSRF-Token': token } })
        .then(function (r) { return r.ok ? r.json() : { found: false }; })
        .then(function (res) {
          busy = false;
          if (res.found && stream) {
            input.value = res.text;
            status.textContent = '已识别，正在核验…';
            stop();
            form.submit();
          }
        })
        .catch(function () { busy = false; });
    }, 'image/jpeg', 0.85);
  }

  startBtn.addEventListener('click', function () {
    box.hidden = false;
    status.textContent = '正在打开摄像头…';
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment', width: { ideal: 1280 } }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        return video.play();
      })
      .then(function () {
        status.textContent = '请将二维码对准摄像头';
        timer = setInterval(grab, 700);
      })
      .catch(function () {
        status.textContent = '无法打开摄像头，请检查浏览器权限，或使用扫码枪。';
      });
  });
  stopBtn.addEventListener('click', stop);
})();
