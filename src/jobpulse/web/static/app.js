// The dashboard's own JavaScript: live refresh, theme, copy, small form helpers, shortcuts.
// Every page works without it; this only makes them nicer.
"use strict";

const THEMES = ["auto", "light", "dark"];
const HIDDEN_REFRESH_MS = 30000;

function currentTheme() {
  try { return localStorage.getItem("jobpulse-theme") || "auto"; } catch (e) { return "auto"; }
}

function applyTheme(theme) {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  document.querySelectorAll("[data-theme-label]").forEach((el) => { el.textContent = "Theme: " + theme; });
}

function setupTheme() {
  applyTheme(currentTheme());
  document.querySelectorAll("[data-theme-toggle]").forEach((button) => {
    button.addEventListener("click", () => {
      const next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
      try { localStorage.setItem("jobpulse-theme", next); } catch (e) { /* private mode */ }
      applyTheme(next);
    });
  });
}

// Live regions: fetch the same URL (filters included) and swap in the fresh fragment.
function busy(region) {
  const active = document.activeElement;
  if (active && region.contains(active) && active.matches("input, select, textarea")) return true;
  return region.querySelector("details[open]") !== null;
}

function setupLive() {
  document.querySelectorAll("[data-live]").forEach((region) => {
    const every = Number(region.dataset.refresh || 5000);
    const marker = document.querySelector(".live-dot");
    let inFlight = false;
    let last = 0;
    const tick = async () => {
      // A hidden tab still refreshes, slowly, so its title can tell what is down.
      const due = document.hidden ? HIDDEN_REFRESH_MS : 0;
      if (inFlight || busy(region) || Date.now() - last < due) return;
      inFlight = true;
      last = Date.now();
      try {
        const response = await fetch(location.pathname + location.search, {
          headers: { "X-Live-Fragment": "1" }, credentials: "same-origin", cache: "no-store",
        });
        if (response.status === 401) { location.reload(); return; }
        if (!response.ok) throw new Error(String(response.status));
        const html = await response.text();
        if (!busy(region)) {
          region.innerHTML = html;
          enhance(region);
          const title = region.querySelector("[data-page-title]");
          if (title) document.title = title.dataset.pageTitle;
        }
        if (marker) marker.classList.remove("stale");
      } catch (e) {
        if (marker) marker.classList.add("stale");
      } finally {
        inFlight = false;
      }
    };
    setInterval(tick, every);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
  });
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement("textarea");
  area.value = text;
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

function setupTabs(root) {
  root.querySelectorAll("[data-tabs]").forEach((tabs) => {
    const buttons = Array.from(tabs.querySelectorAll('[role="tab"]'));
    const select = (chosen) => {
      buttons.forEach((button) => {
        const on = button === chosen;
        button.setAttribute("aria-selected", String(on));
        button.tabIndex = on ? 0 : -1;
        document.getElementById(button.getAttribute("aria-controls")).hidden = !on;
      });
    };
    buttons.forEach((button, i) => {
      button.addEventListener("click", () => select(button));
      button.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = buttons[(i + step + buttons.length) % buttons.length];
        select(next);
        next.focus();
      });
    });
    select(buttons.find((b) => b.getAttribute("aria-selected") === "true") || buttons[0]);
  });
}

// Things inside live regions are re-enhanced after every refresh.
function enhance(root) {
  root.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const target = document.querySelector(button.dataset.copy);
      await copyText(target.textContent.trim());
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  });
  root.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  root.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
  setupTabs(root);
}

function setupScheduleEditor() {
  document.querySelectorAll("[data-schedule-fields]").forEach((fields) => {
    const form = fields.closest("form");
    const showKind = () => {
      const kind = (form.querySelector('input[name="kind"]:checked') || {}).value || "simple";
      fields.querySelectorAll("[data-for-kind]").forEach((el) => { el.hidden = el.dataset.forKind !== kind; });
    };
    form.querySelectorAll('input[name="kind"]').forEach((r) => r.addEventListener("change", showKind));
    showKind();
    const url = fields.dataset.preview;
    const list = form.querySelector("[data-upcoming]") || form.parentElement.querySelector("[data-upcoming]");
    if (!url || !list) return;
    let timer = null;
    const refresh = async () => {
      const params = new URLSearchParams(new FormData(form));
      params.delete("csrf_token");
      const response = await fetch(url + "?" + params.toString(), { credentials: "same-origin" });
      const data = await response.json();
      list.replaceChildren();
      if (data.errors) {
        const item = document.createElement("li");
        item.className = "field-error";
        item.textContent = Object.entries(data.errors).map(([k, v]) => k + ": " + v).join("; ");
        list.appendChild(item);
        return;
      }
      data.times.forEach((time) => {
        const item = document.createElement("li");
        const at = document.createElement("span");
        at.textContent = time.local;
        const rel = document.createElement("span");
        rel.className = "muted";
        rel.textContent = time.in;
        item.append(at, rel);
        list.appendChild(item);
      });
    };
    const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 300); };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    if (!list.querySelector("li:not(.muted)")) refresh();
  });
}

function setupShortcuts() {
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.matches && target.matches("input, select, textarea, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (event.key === "/" || event.key === "n") {
      const el = document.querySelector('[data-key="' + event.key + '"]');
      if (!el) return;
      event.preventDefault();
      if (el.matches("input")) el.focus(); else el.click();
    }
    if (event.key === "j" || event.key === "k") {
      const links = Array.from(document.querySelectorAll("main table tbody tr td a:not(.chip)"));
      if (!links.length) return;
      const at = links.indexOf(document.activeElement);
      const next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[next].focus();
      event.preventDefault();
    }
  });
}

function setupNavigation() {
  document.querySelectorAll("select[data-navigate]").forEach((select) => {
    select.addEventListener("change", () => { location.href = select.value; });
  });
  document.querySelectorAll("[data-menu]").forEach((button) => {
    button.addEventListener("click", () => {
      const nav = document.getElementById(button.getAttribute("aria-controls"));
      const open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", String(open));
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupTheme();
  setupNavigation();
  setupShortcuts();
  setupScheduleEditor();
  enhance(document);
  setupLive();
});
