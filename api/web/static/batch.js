// Batch progress: polls the job resource until it has finished.
(function () {
  'use strict';
  var root = document.getElementById('batch');
  if (!root) { return; }
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var bar = document.getElementById('batch-progress');
  var labels = {};
  try { labels = JSON.parse(root.dataset.labels || '{}') || {}; } catch (e) { labels = {}; }
  function set(id, v) { document.getElementById(id).textContent = String(v); }

  function render(st) {
    bar.max = Math.max(st.total, 1);
    bar.value = st.done;
    bar.textContent = st.done + ' / ' + st.total;
    set('b-total', st.total); set('b-done', st.done); set('b-issued', st.issued);
    set('b-existing', st.existing); set('b-rejected', st.rejected);
    var state = st.finished ? '已完成' : '处理中… 约 ' + Math.round(st.rate || 0) + ' 张/秒';
    if (st.error) { state += '：' + st.error; }
    set('b-state', state);
    if (st.report) { document.getElementById('b-files').hidden = false; }
    if (st.manifest) { document.getElementById('b-manifest-link').hidden = false; }
    var box = document.getElementById('b-problems');
    if (st.problems && st.problems.length) {
      box.textContent = '';
      var h = document.createElement('h3');
      h.textContent = '被拒绝的行';
      var ul = document.createElement('ul');
      ul.className = 'problems';
      st.problems.forEach(function (p) {
        var li = document.createElement('li');
        li.textContent = '第 ' + p.row + ' 行' + (p.key ? '（' + p.key + '）' : '') + '：' +
          p.fields.map(function (f) { return (labels[f.item] || f.item) + '：' + f.message; }).join('；');
        ul.appendChild(li);
      });
      box.appendChild(h);
      box.appendChild(ul);
    }
  }

  function poll() {
    fetch(root.dataset.status, { credentials: 'same-origin', headers: { 'X-CSRF-Token': token } })
      .then(function (r) { return r.json(); })
      .then(function (st) {
        if (st.error && st.error.code) { set('b-state', st.error.message); return; }
        render(st);
        if (!st.finished) { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
