// Runs before the page paints, so a chosen theme never flashes the other one.
(function () {
  var theme = null;
  try { theme = localStorage.getItem("jobpulse-theme"); } catch (e) { /* private mode */ }
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
})();
