// The call console's progressive enhancement: a running timer, the legs' live status, and the
// recording's "play from where the person answered". Without it the page refreshes itself.
(function () {
  "use strict";
  const live = document.getElementById("live");
  if (live) {
    const timer = document.getElementById("timer");
    let base = parseFloat(live.dataset.elapsed || "0");
    // Count from the server's elapsed time, not the browser's clock: the two may disagree.
    let loaded = performance.now();
    const show = function () {
      const s = Math.max(0, Math.floor(base + (performance.now() - loaded) / 1000));
      timer.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    };
    show();
    setInterval(show, 500);
    const poll = function () {
      fetch(live.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (!d) { return; }
          base = d.elapsed;
          loaded = performance.now();
          if (d.ended) { window.location.reload(); return; }
          document.querySelectorAll("#legs [data-leg]").forEach(function (el) {
            const status = d.legs[el.dataset.leg];
            const label = status ? live.dataset["s" + status.replace("-", "")] : null;
            if (label) { el.querySelector("[data-status]").textContent = label; }
          });
        })
        .catch(function () { /* the next poll tries again */ });
    };
    setInterval(poll, 2000);
  }
  document.querySelectorAll("button[data-seek]").forEach(function (button) {
    button.addEventListener("click", function () {
      const audio = document.getElementById(button.dataset.audio);
      audio.currentTime = parseFloat(button.dataset.seek);
      audio.play().catch(function () { /* autoplay refused: the position is set */ });
    });
  });
})();
