// The watch page: play HLS through hls.js where the browser has no native HLS, poll the
// session's stat URL while the page is open, and copy its playback URL. Without
// JavaScript the video still plays (HLS only natively) and the URL can be selected.
"use strict";

(function () {
  const player = document.querySelector(".player[data-stat-url]");
  if (!player) return;
  const statUrl = player.dataset.statUrl;
  const names = { prebuf: "Buffering", dl: "Playing", wait: "Waiting", check: "Checking" };
  const show = (id, text) => { document.getElementById(id).textContent = text; };
  let lastStatus = null;

  async function poll() {
    try {
      const reply = await fetch(statUrl, { cache: "no-store" });
      const body = await reply.json();
      if (body.error) {
        show("stat-status", body.error);
        announce(body.error);
        return;  // the session ended: stop polling
      }
      const stat = body.response;
      const status = names[stat.status] || stat.status;
      show("stat-status", status);
      show("stat-peers", String(stat.peers));
      show("stat-down", stat.speed_down + " KB/s");
      show("stat-up", stat.speed_up + " KB/s");
      const progress = stat.status === "prebuf" ? stat.progress : stat.total_progress;
      document.getElementById("stat-progress").value = progress;
      show("stat-progress-text", progress + "%");
      announce(status);
    } catch (error) {
      show("stat-status", "No answer from the engine");
    }
    setTimeout(poll, 1000);
  }

  function announce(status) {
    if (status !== lastStatus) {
      lastStatus = status;
      show("stat-announce", "Status: " + status);
    }
  }

  const copy = document.getElementById("copy-url");
  const url = document.getElementById("playback-url");
  if (navigator.clipboard && window.isSecureContext) {
    copy.hidden = false;
    copy.addEventListener("click", async () => {
      await navigator.clipboard.writeText(url.value);
      show("copy-done", "Copied.");
    });
  }
  url.addEventListener("focus", () => url.select());

  const video = document.getElementById("video");
  if (video.dataset.hls !== undefined && !video.canPlayType("application/vnd.apple.mpegurl")) {
    playWithHlsJs(video);
  }
  poll();

  // hls.js is served from this origin (scripts/build-webui) and loaded only when needed;
  // its worker comes from a file too, as the page's CSP allows no blob: worker.
  function playWithHlsJs(video) {
    const source = video.getAttribute("src");
    video.removeAttribute("src");  // the element cannot play the playlist itself
    video.load();
    if (!video.dataset.hlsJs) return cannotPlay();
    const script = document.createElement("script");
    script.src = video.dataset.hlsJs;
    script.addEventListener("error", cannotPlay);
    script.addEventListener("load", () => {
      if (!window.Hls || !window.Hls.isSupported()) return cannotPlay();
      const hls = new window.Hls({ workerPath: video.dataset.hlsWorker });
      hls.on(window.Hls.Events.ERROR, (event, data) => {
        if (data.fatal) {
          hls.destroy();
          cannotPlay();
        }
      });
      hls.loadSource(source);
      hls.attachMedia(video);
    });
    document.head.append(script);
  }

  function cannotPlay() {
    document.getElementById("hls-unsupported").hidden = false;
  }
})();
