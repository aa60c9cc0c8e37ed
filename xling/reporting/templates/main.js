/* The page: each view draws itself when the data holds it. */
if (!DATA.runs.length) {
  Array.prototype.forEach.call(document.querySelectorAll(".mt-only"), function (s) { s.hidden = true; });
  Array.prototype.forEach.call(document.querySelectorAll("#nav a"), function (a) {
    var keep = a.getAttribute("href") === "#tables" || (DATA.choice && a.getAttribute("href") === "#choice");
    if (!keep) a.hidden = true;
  });
} else {
  drawOverview();
  drawSignificance();
  drawHeatmaps();
  setupBrowser();
  setupBuckets();
}
if (DATA.choice) drawChoice();
else {
  byId("choice").hidden = true;
  document.querySelector("#nav a[href='#choice']").hidden = true;
}
drawTables();
byId("footer").textContent = "Made by xling " + DATA.xling + ". Everything on this page is in this one file.";
document.body.setAttribute("data-ready", String(performance.now()));
