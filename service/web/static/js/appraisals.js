// Shows, while grading, how many 优秀 this page adds against the cohort's remaining places.
// The server enforces the cap; this only warns before the office submits.
(function () {
  "use strict";
  var cap = document.getElementById("cap");
  var form = document.getElementById("grades-form");
  var live = document.getElementById("cap-live");
  if (!cap || !form || !live) return;
  var allowed = Number(cap.dataset.allowed);
  var excellent = Number(cap.dataset.excellent);

  function isCapped(select) {
    var option = select.options[select.selectedIndex];
    return Boolean(option && option.dataset.capped);
  }

  function update() {
    var delta = 0;
    form.querySelectorAll("select.grade").forEach(function (select) {
      var was = form.querySelector('input[name="was-' + select.name.slice(6) + '"]');
      var wasCapped = false;
      if (was) {
        var old = select.querySelector('option[value="' + CSS.escape(was.value) + '"]');
        wasCapped = Boolean(old && old.dataset.capped);
      }
      delta += (isCapped(select) ? 1 : 0) - (wasCapped ? 1 : 0);
    });
    var after = excellent + delta;
    if (delta === 0) {
      live.textContent = "";
      live.className = "muted";
    } else if (after > allowed) {
      live.textContent = "本页将使优秀达到 " + after + " 人，超过上限 " + allowed + " 人，保存时会被拒绝。";
      live.className = "alert error";
    } else {
      live.textContent = "保存后优秀共 " + after + " 人（上限 " + allowed + " 人）。";
      live.className = "alert ok";
    }
  }

  form.addEventListener("change", update);
  update();
})();
