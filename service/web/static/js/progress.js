// Live progress of a batch: polls the batch progress JSON API once a second until it is finished.
(function () {
  "use strict";
  var root = document.getElementById("batch-progress");
  if (!root || root.dataset.status === "finished") return;
  var source = root.dataset.source;
  var bar = document.getElementById("bar");

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = String(value);
  }

  function eta(seconds) {
    if (seconds === null || seconds === undefined) return "计算中";
    var s = Math.max(0, Math.round(seconds));
    return "约 " + Math.floor(s / 60) + " 分 " + (s % 60) + " 秒";
  }

  function show(p) {
    bar.max = Math.max(p.total, 1);
    bar.value = p.done + p.failed;
    bar.textContent = (p.done + p.failed) + " / " + p.total;
    text("done", p.done);
    text("total", p.total);
    text("failed", p.failed);
    var finished = p.status === "finished";
    text("eta", finished ? "—" : eta(p.eta_seconds));
    text("status", finished ? "已完成" : "进行中");
    if (p.failed > 0) document.getElementById("failed-note").hidden = false;
    if (finished) {
      root.dataset.status = "finished";
      document.getElementById("zip").hidden = false;
    }
    return finished;
  }

  function poll() {
    fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) { if (!(p && show(p))) window.setTimeout(poll, 1000); })
      .catch(function () { window.setTimeout(poll, 2000); });
  }

  poll();
})();
