// The task page of the playlist: move the progress bar while an import or an update
// runs, by polling its JSON status, and reload the page once it has ended so the server
// shows the result. Without JavaScript the page reloads itself (a <noscript> refresh).
"use strict";

(function () {
  const section = document.querySelector(".task[data-status-url]");
  if (!section || section.dataset.state !== "running") return;
  const statusUrl = section.dataset.statusUrl;
  const bar = document.getElementById("task-progress");
  const percent = document.getElementById("task-percent");
  const status = document.getElementById("task-status");
  let failures = 0;

  async function poll() {
    try {
      const reply = await fetch(statusUrl, { cache: "no-store", credentials: "same-origin" });
      if (!reply.ok) throw new Error("status " + reply.status);
      const task = await reply.json();
      failures = 0;
      bar.value = task.progress;
      bar.textContent = task.progress + "%";
      percent.textContent = task.progress + "%";
      if (task.state !== "running") {
        status.textContent = task.state === "done" ? "Finished." : (task.error || "The task failed.");
        window.location.reload();
        return;
      }
    } catch (error) {
      failures += 1;
      if (failures >= 5) {
        status.textContent = "No answer from tidecast; reload the page to try again.";
        return;
      }
    }
    setTimeout(poll, 500);
  }

  poll();
})();
