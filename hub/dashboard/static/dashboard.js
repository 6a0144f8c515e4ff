// The dashboard's only script (served from the package; no inline script, no CDN).
// Live pages: a page with a [data-events] element listens to /events and, when a lead it
// shows changes, fetches the same page again and swaps in the parts marked with an id.
// What it swaps in is this server's own autoescaped HTML, exactly as a reload would show.
(function () {
  "use strict";
  var live = document.querySelector("[data-events]");
  if (!live || !window.EventSource) return;
  var pending = false;
  function refresh() {
    if (pending) return;
    pending = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        pending = false;
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["leads", "thread", "timeline"].forEach(function (id) {
          var here = document.getElementById(id);
          var there = fresh.getElementById(id);
          if (here && there) here.replaceWith(document.importNode(there, true));
        });
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { pending = false; });
  }
  var source = new EventSource(live.getAttribute("data-events"));
  source.addEventListener("lead", refresh);
  source.addEventListener("open", function () { document.body.setAttribute("data-live", "1"); });
})();
