/* The page: each view draws itself when the data holds it. */
if (!DATA.runs.length) {
  Array.prototype.forEach.call(document.querySelectorAll(".mt-only"), function (s) { s.hidden = true; });
  Array.prototype.forEach.call(document.querySelectorAll("#nav a"), function (a) {
    if (a.getAttribute("href") !== "#tables") a.hidden = true;
  });
} else {
  drawOverview();
  drawSignificance();
  drawHeatmaps();
  setupBrowser();
  setupBuckets();
}
drawTables();
byId("footer").textContent = "Made by xling " + DATA.xling + ". Everything on this page is in this one file.";
document.body.setAttribute("data-ready", String(performance.now()));
