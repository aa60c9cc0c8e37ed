/* The page: each view draws itself when the data holds it. */
if (!DATA.runs.length) {
  Array.prototype.forEach.call(document.querySelectorAll(".mt-only"), function (s) { hideSection(s.id); });
} else {
  drawOverview();
  drawSignificance();
  drawHeatmaps();
  setupBrowser();
  setupBuckets();
}
if (DATA.choice) drawChoice();
else {
  hideSection("choice");
}
drawTables();
byId("footer").textContent = "Made by xling " + DATA.xling + ". Everything on this page is in this one file.";
document.body.setAttribute("data-ready", String(performance.now()));
