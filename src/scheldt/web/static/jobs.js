// The jobs page follows its runs: while one is queued or running it asks the server for the
// runs every two seconds and updates the bars in place; it stops once all have finished.
(function () {
  "use strict";
  var table = document.getElementById("job-runs");
  var state = document.getElementById("poll-state");
  if (!table) { return; }
  var EVERY_MS = 2000;

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = text;
    return td;
  }

  function when(iso) { return iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : ""; }

  function row(run) {
    var tr = document.createElement("tr");
    tr.dataset.run = run.id;
    tr.dataset.status = run.status;
    tr.appendChild(cell("#" + run.id));
    tr.appendChild(cell(run.kind));
    var status = cell("");
    var badge = document.createElement("span");
    badge.className = "badge job-" + run.status;
    badge.textContent = run.status;
    status.appendChild(badge);
    tr.appendChild(status);
    var progress = cell("");
    var bar = document.createElement("div");
    bar.className = "bar";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", "run #" + run.id + " progress");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", String(run.percent));
    var fill = document.createElement("span");
    fill.style.width = run.percent + "%";
    bar.appendChild(fill);
    progress.appendChild(bar);
    var note = document.createElement("div");
    note.className = "small";
    var pct = document.createElement("span");
    pct.className = "pct";
    pct.textContent = run.percent + " %";
    var msg = document.createElement("span");
    msg.className = run.error ? "msg failed" : "msg";
    msg.textContent = " " + (run.error || run.message);
    note.appendChild(pct);
    note.appendChild(msg);
    progress.appendChild(note);
    tr.appendChild(progress);
    tr.appendChild(cell(run.requested_by));
    tr.appendChild(cell(when(run.started_at), "nowrap small"));
    tr.appendChild(cell(when(run.finished_at), "nowrap small"));
    return tr;
  }

  function busy() {
    return Array.prototype.some.call(table.tBodies[0].rows, function (tr) {
      return tr.dataset.status === "queued" || tr.dataset.status === "running";
    });
  }

  function poll() {
    fetch(table.dataset.poll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401) { throw new Error("signed out: sign in again to follow the runs"); }
        if (!r.ok) { throw new Error("the server answered " + r.status); }
        return r.json();
      })
      .then(function (body) {
        var tbody = table.tBodies[0];
        while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
        body.items.forEach(function (run) { tbody.appendChild(row(run)); });
        table.dataset.polled = String(Number(table.dataset.polled || 0) + 1);
        if (busy()) {
          state.textContent = "Following the running work…";
          setTimeout(poll, EVERY_MS);
        } else {
          state.textContent = "All work has finished.";
        }
      })
      .catch(function (err) { state.textContent = String(err.message || err); });
  }

  if (busy()) {
    state.textContent = "Following the running work…";
    setTimeout(poll, EVERY_MS);
  }
})();
